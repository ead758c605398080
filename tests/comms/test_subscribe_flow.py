"""Subscribing from the public form: double opt-in, the same answer whatever the address's
state, signed links that refuse tampering and expiry, the rate limit, webhook checks."""

import re
import socket
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.core.cache import caches
from django.utils import timezone

from comms.models import Subscriber
from comms.services import subscribers
from comms.status import tokens
from ircore.errors import RuleError
from ircore.models import Delivery

from .statuskit import service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rates():
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


@pytest.fixture
def now():
    with time_machine.travel("2025-03-20 12:00:00+00:00", tick=False):
        yield timezone.now()


@pytest.fixture
def public_dns(monkeypatch):
    """Answers for the webhook hosts the tests use (this machine has no DNS)."""
    answers = {
        "hooks.example.com": "93.184.216.34",
        "rebind.example.com": "10.0.0.7",
        "metadata.example.com": "169.254.169.254",
        "mapped.example.com": "::ffff:127.0.0.1",
    }

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _post(client, address="ana@example.com", components=(), **extra):
    data = {"email-kind": "email", "email-email": address, "email-components": list(components)}
    return client.post("/status/subscribe/", data, **extra)


def _link(delivery, kind):
    return re.search(rf"https?://[^\s]+/status/{kind}/[^\s/]+/", delivery.body).group(0)


def _path(url):
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_form_page(client):
    service("Payments API")
    html = client.get("/status/subscribe/").content.decode()
    assert "Payments API" in html and "csrfmiddlewaretoken" in html


def test_double_opt_in(client, now):
    api = service("Payments API")
    service("Dashboard")
    response = _post(client, components=[api.pk])
    assert response.status_code == 302 and response["Location"] == "/status/subscribe/sent/"
    sub = Subscriber.objects.get()
    assert sub.state == "pending" and not sub.components.exists()
    assert not Subscriber.objects.active().exists()
    confirmation = Delivery.objects.get()
    assert confirmation.target == "ana@example.com"
    assert "Payments API" in confirmation.body
    url = _link(confirmation, "subscribe/confirm")
    # Opening the link only asks; a mail scanner following it confirms nothing.
    assert "Confirm" in client.get(_path(url)).content.decode()
    assert Subscriber.objects.get().confirmed_at is None
    assert client.post(_path(url)).status_code == 200
    sub.refresh_from_db()
    assert sub.state == "confirmed" and not sub.all_components
    assert list(sub.components.all()) == [api]


def test_same_answer_whatever_the_state(client, now):
    service("Payments API")
    Subscriber.objects.create(kind="email", target="pending@example.com")
    Subscriber.objects.create(kind="email", target="confirmed@example.com", confirmed_at=now)
    Subscriber.objects.create(
        kind="email", target="gone@example.com", confirmed_at=now, unsubscribed_at=now
    )
    answers = set()
    for address in (
        "new@example.com",
        "pending@example.com",
        "confirmed@example.com",
        "gone@example.com",
    ):
        response = _post(client, address)
        follow = client.get(response["Location"])
        answers.add((response.status_code, response["Location"], follow.content))
    assert len(answers) == 1
    # Each got a confirmation; nobody's subscription changed.
    assert Delivery.objects.count() == 4
    assert Subscriber.objects.active().get().target == "confirmed@example.com"
    assert Subscriber.objects.get(target="gone@example.com").state == "unsubscribed"


def test_one_confirmation_per_cooldown(client, now):
    _post(client)
    _post(client)
    assert Delivery.objects.count() == 1
    with time_machine.travel(now + timedelta(minutes=11), tick=False):
        _post(client)
    assert Delivery.objects.count() == 2


def test_a_confirmed_subscriber_changes_components_only_through_the_link(client, now):
    api, dash = service("Payments API"), service("Dashboard")
    sub = Subscriber.objects.create(
        kind="email", target="ana@example.com", confirmed_at=now, all_components=False
    )
    sub.components.set([api])
    _post(client, components=[dash.pk])
    assert list(sub.components.all()) == [api]
    client.post(_path(_link(Delivery.objects.get(), "subscribe/confirm")))
    assert list(Subscriber.objects.get().components.all()) == [dash]


def test_confirmation_expires(client, now, settings):
    settings.STATUS_CONFIRM_MAX_AGE = 3600
    _post(client)
    url = _path(_link(Delivery.objects.get(), "subscribe/confirm"))
    with time_machine.travel(now + timedelta(hours=1, minutes=1), tick=False):
        response = client.post(url)
        assert response.status_code == 400
        assert "expired" in response.content.decode()
    assert Subscriber.objects.get().confirmed_at is None


def _tampered(token: str) -> list[str]:
    value, signature = token.rsplit(":", 1)
    flipped = value[:-1] + ("A" if value[-1] != "A" else "B")
    return [
        f"{flipped}:{signature}",
        f"{value}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        value,
        "x" * 2000,
    ]


def test_confirmation_refuses_tampering(client, now):
    api = service("Payments API")
    _post(client, components=[api.pk])
    token = _link(Delivery.objects.get(), "subscribe/confirm").rstrip("/").rsplit("/", 1)[1]
    for bad in _tampered(token):
        response = client.post(f"/status/subscribe/confirm/{bad}/")
        assert response.status_code == 400, bad
        assert "not valid" in response.content.decode()
    # Re-signed with the right payload but another salt (an unsubscribe token's): refused.
    payload = signing.Signer(salt=tokens.CONFIRM_SALT).unsign_object(token)
    other = signing.Signer(salt=tokens.UNSUBSCRIBE_SALT).sign_object(payload)
    assert client.post(f"/status/subscribe/confirm/{other}/").status_code == 400
    # A claim for all components, forged without the key: refused.
    forged = signing.dumps({**payload, "a": True, "c": []}, salt="elsewhere")
    assert client.post(f"/status/subscribe/confirm/{forged}/").status_code == 400
    assert Subscriber.objects.get().confirmed_at is None


def test_unsubscribe_link_in_every_message_and_tampering(client, now):
    from comms.services.subscribers import fan_out

    from .statuskit import declare, publish_notice

    api = service("Payments API")
    sub = Subscriber.objects.create(kind="email", target="ana@example.com", confirmed_at=now)
    notice = publish_notice(declare(api, now=now), "Payments delayed", components=[api])
    fan_out(notice)
    url = _path(_link(Delivery.objects.get(), "unsubscribe"))
    token = url.rstrip("/").rsplit("/", 1)[1]
    for bad in _tampered(token):
        assert client.post(f"/status/unsubscribe/{bad}/").status_code == 400
    assert Subscriber.objects.get().state == "confirmed"
    assert "Unsubscribe" in client.get(url).content.decode()
    assert Subscriber.objects.get().state == "confirmed"  # GET changes nothing
    assert client.post(url).status_code == 200
    assert Subscriber.objects.get().state == "unsubscribed"
    assert client.post(url).status_code == 200  # twice is fine
    # A removed subscriber's link is refused, even if the number comes back for someone else.
    subscribers.subscriber_remove(subscriber=Subscriber.objects.get(), user=None)
    Subscriber.objects.create(pk=sub.pk, kind="email", target="bob@example.com", confirmed_at=now)
    assert client.post(url).status_code == 400
    assert Subscriber.objects.get().state == "confirmed"


def test_unsubscribe_links_do_not_expire(client, now):
    sub = Subscriber.objects.create(kind="email", target="ana@example.com", confirmed_at=now)
    url = f"/status/unsubscribe/{tokens.unsubscribe_token(subscriber=sub)}/"
    with time_machine.travel(now + timedelta(days=400), tick=False):
        assert client.post(url).status_code == 200
    assert Subscriber.objects.get().state == "unsubscribed"


def test_rate_limited_per_address(client, now, settings):
    settings.STATUS_SUBSCRIBE_RATE = "3/hour"
    for n in range(3):
        assert _post(client, f"a{n}@example.com").status_code == 302
    response = _post(client, "a4@example.com")
    assert response.status_code == 429
    assert "Too many subscription requests" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert not Subscriber.objects.filter(target="a4@example.com").exists()
    # Another address is not held up by this one's count.
    assert _post(client, "a5@example.com", REMOTE_ADDR="203.0.113.9").status_code == 302


@pytest.mark.parametrize(
    "address, message",
    [
        ("", "This field is required."),
        ("not-an-address", "Enter a valid e-mail address."),
        ("a@b.c\x00", "Null characters are not allowed."),
    ],
)
def test_bad_email_is_a_400_on_the_field(client, address, message):
    response = _post(client, address)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Subscriber.objects.exists()


def test_unknown_component_is_refused(client):
    internal = service("Ledger", public=False)
    response = _post(client, components=[internal.pk])
    assert response.status_code == 400
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    "url, problem",
    [
        ("http://hooks.example.com/x", "https://"),
        ("https://hooks.example.com:8443/x", "default https port"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("https://127.0.0.1/x", "not an address or a local name"),
        ("https://[::1]/x", "not an address or a local name"),
        ("https://localhost/x", "not an address or a local name"),
        ("https://printer.local/x", "not an address or a local name"),
        ("https://intranet/x", "not an address or a local name"),
        ("https://rebind.example.com/x", "not a public address"),
        ("https://metadata.example.com/latest", "not a public address"),
        ("https://mapped.example.com/x", "not a public address"),
        ("https://nowhere.example.com/x", "cannot be resolved"),
        ("file:///etc/passwd", "https://"),
    ],
)
def test_webhook_targets_refused(public_dns, url, problem):
    with pytest.raises(RuleError) as refused:
        subscribers.subscribe(kind="webhook", target=url)
    assert problem in refused.value.message and refused.value.field == "url"
    assert not Subscriber.objects.exists()


def test_webhook_is_confirmed_by_a_post_to_it(client, public_dns, now):
    data = {"webhook-kind": "webhook", "webhook-url": "https://hooks.example.com/status"}
    assert client.post("/status/subscribe/", data).status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.channel == "webhook" and delivery.target == "https://hooks.example.com/status"
    assert delivery.payload["type"] == "subscription_confirmation"
    assert client.post(_path(delivery.payload["confirm_url"])).status_code == 200
    assert Subscriber.objects.active().get().kind == "webhook"


def test_webhook_form_error_names_the_field(client, public_dns):
    data = {"webhook-kind": "webhook", "webhook-url": "https://localhost/x"}
    response = client.post("/status/subscribe/", data)
    assert response.status_code == 400
    assert "not an address or a local name" in response.content.decode()


def test_unconfirmed_requests_are_forgotten_after_a_week(now):
    subscribers.subscribe(kind="email", target="typed-by-someone@example.com")
    kept = Subscriber.objects.create(kind="email", target="ana@example.com", confirmed_at=now)
    with time_machine.travel(now + timedelta(days=6), tick=False):
        assert subscribers.prune_pending() == 0
    with time_machine.travel(now + timedelta(days=8), tick=False):
        assert subscribers.prune_pending() == 1
    assert list(Subscriber.objects.all()) == [kept]
    assert not Subscriber.history.filter(target="typed-by-someone@example.com").exists()
    assert Subscriber.history.filter(target="ana@example.com").exists()
