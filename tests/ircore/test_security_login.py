"""Login throttling (django-axes) through the real admin login form: 5 failures for one
username, or from one address, within 15 minutes lock further tries out for 15 minutes with a
429, even with the right password, and the lockout is logged."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessFailureLog
from axes.utils import reset
from django.test import Client

from ircore import roles

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def no_attempts(db):
    """Each test starts with no recorded attempts (they live in axes' tables)."""
    reset()
    yield
    reset()


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(make_user):
    return make_user("mia", roles.INCIDENT_MANAGERS), make_user("rob", roles.RESPONDERS)


def login(username: str, password: str, address: str = "10.0.0.1"):
    return Client().post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def fail(times: int, username: str = "mia", address: str = "10.0.0.1") -> list[int]:
    """``times`` wrong passwords; the status of each answer."""
    return [login(username, "wrong-password", address).status_code for _ in range(times)]


def test_the_fifth_failure_locks_and_earlier_ones_show_the_form_again(staff, clock):
    for _ in range(4):
        response = login("mia", "wrong-password")
        assert response.status_code == 200
        assert b"Please enter the correct username and password" in response.content
    assert login("mia", "wrong-password").status_code == 429


def test_five_failures_lock_out_the_right_password_too(staff, clock, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        assert fail(5) == [200, 200, 200, 200, 429]
        response = login("mia", "pw-mia")

    assert response.status_code == 429
    assert b"too many login attempts" in response.content
    assert "_auth_user_id" not in response.client.session
    assert any("Locking out" in record.getMessage() for record in caplog.records)
    # Each try is on record for the admin, with its address: five failures, then the refused
    # right password, marked as locked out like the fifth.
    log = AccessFailureLog.objects.filter(username="mia", ip_address="10.0.0.1")
    assert log.count() == 6
    assert log.filter(locked_out=True).count() == 2


def test_four_failures_do_not_lock_and_a_good_login_does_not_clear_them(staff, clock):
    assert fail(4) == [200] * 4
    assert login("mia", "pw-mia").status_code == 302  # logged in: redirected to /admin/
    # Otherwise anyone with one valid account could reset the address's count at will.
    assert fail(1) == [429]


def test_the_lockout_ends_15_minutes_after_the_fifth_failure(staff, clock):
    fail(5)
    clock.shift(timedelta(minutes=14, seconds=59))
    assert Client().get(LOGIN).status_code == 200  # looking at the form is no try
    clock.shift(timedelta(seconds=2))
    assert login("mia", "pw-mia").status_code == 302


def test_each_try_during_the_lockout_starts_its_15_minutes_again(staff, clock):
    fail(5)
    clock.shift(timedelta(minutes=14, seconds=59))
    assert login("mia", "pw-mia").status_code == 429
    clock.shift(timedelta(minutes=1, seconds=2))  # 15:01 after the fifth failure
    assert login("mia", "pw-mia").status_code == 429
    clock.shift(timedelta(minutes=15, seconds=1))  # 15:01 after the last try
    assert login("mia", "pw-mia").status_code == 302


def test_failures_older_than_15_minutes_do_not_count(staff, clock):
    fail(4)
    clock.shift(timedelta(minutes=16))
    fail(1)
    assert login("mia", "pw-mia").status_code == 302


def test_lockout_is_by_username_or_by_address(staff, clock):
    fail(5, "mia", "10.0.0.1")

    # Another username from another address is unaffected.
    assert login("rob", "pw-rob", "10.0.0.2").status_code == 302
    # The locked username from another address is refused ...
    assert login("mia", "pw-mia", "10.0.0.3").status_code == 429
    # ... and so is another username from the locked address.
    assert login("rob", "pw-rob", "10.0.0.1").status_code == 429


def test_five_failures_from_one_address_over_several_usernames_lock_the_address(staff, clock):
    statuses = [fail(1, name, "10.0.0.9")[0] for name in ("mia", "rob", "ann", "bob", "cid")]
    assert statuses == [200, 200, 200, 200, 429]

    assert login("rob", "pw-rob", "10.0.0.9").status_code == 429
    assert login("rob", "pw-rob", "10.0.0.10").status_code == 302


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(staff, clock, settings):
    settings.PROXY_COUNT = 1

    def via_proxy(username, password, client_address):
        return Client().post(
            LOGIN,
            {"username": username, "password": password},
            REMOTE_ADDR="10.0.0.254",  # every request comes from the proxy
            HTTP_X_FORWARDED_FOR=f"203.0.113.66, {client_address}",  # the left one is forged
        )

    statuses = [via_proxy("ann", "wrong", "192.0.2.7").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert via_proxy("rob", "pw-rob", "192.0.2.7").status_code == 429
    assert via_proxy("rob", "pw-rob", "192.0.2.8").status_code == 302
