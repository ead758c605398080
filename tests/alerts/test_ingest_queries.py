"""The cost of an alert does not grow with what is open: the same number of queries to take
one alert (new, joining, repeated, resolved) at 10 and at 1,000 open alerts; a 1,000-alert
batch takes as many queries as a 10-alert one on PostgreSQL (bulk reads and writes). And the
locks are narrow: a delivery in flight holds up another delivery of the same alert, not one
of another alert to the same integration."""

import importlib
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from incidents.alerts.models import Alert, RoutingRule
from incidents.alerts.services import cache, ingest, parse
from ircore.models import Service

from .conftest import alertmanager_payload, am_alert, event_payload

URL = "/api/v1/alerts/alertmanager/"
# One event once the token and the routing are cached (a first event did it). In the test's
# transaction the delivery's own is a savepoint: SAVEPOINT and RELEASE count here.
# PostgreSQL: savepoint; one round trip of locks and reads (``lookup.read``: lock timeout,
# the integration row under a key-share lock, the dedup lock, the firing alerts, and the
# service's window and incident to join); then a new alert's insert, its timeline entry and
# the entry's history row, or a repeat's update; release.
# SQLite, no round trips to save: the integration row, the firing alerts and (a new alert
# only) the service's window and incident to join, one query each.
NEW_JOINING = {"postgresql": 6, "sqlite": 8}
REPEAT = {"postgresql": 4, "sqlite": 5}
# The module, not the function the package exports under the same name.
locks_module = importlib.import_module("incidents.alerts.services.locks")


@pytest.fixture(autouse=True)
def still_cache_clock(monkeypatch):
    """The caches' clock held still: on a slow machine a delivery must not find the routing
    expired where the one it is compared with did not (a cold cache costs the routing's one
    query, whatever the number of alerts)."""
    monkeypatch.setattr(cache, "clock", lambda: 0.0)


def _count(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def _costs(post, integration, token, n):
    """Queries for one new alert joining, one repeat, one resolve, and one declaring (for a
    service of its own)."""
    service = Service.objects.create(name=f"Service {n}", slug=f"svc-{n}")
    RoutingRule.objects.create(
        integration=integration, position=9, label="service", value=service.slug, service=service
    )
    return (
        _count(lambda: post(URL, alertmanager_payload(am_alert(100_000 + n)), token)),
        _count(lambda: post(URL, alertmanager_payload(am_alert(0)), token)),
        _count(lambda: post(URL, alertmanager_payload(am_alert(n - 1, status="resolved")), token)),
        _count(lambda: post(URL, alertmanager_payload(am_alert(n, service=service.slug)), token)),
    )


def test_one_alert_costs_the_same_at_10_and_1000_open_alerts(post, alertmanager):
    token = alertmanager.token
    post(URL, alertmanager_payload(*[am_alert(n) for n in range(10)]), token)
    at_10 = _costs(post, alertmanager.integration, token, 10)

    post(URL, alertmanager_payload(*[am_alert(n) for n in range(10, 1000)]), token)
    at_1000 = _costs(post, alertmanager.integration, token, 1000)

    assert at_10 == at_1000
    # declaring (the most): the rules (a rule was just added), the reads, the service lock
    # and a second look, the declaration's own queries, the alert, the entries: never per
    # alert.
    assert max(at_10) <= 40, at_10
    print("queries per alert (join, repeat, resolve, declare):", at_10)


def test_a_new_event_and_a_repeat_cost_a_few_queries(post, events, django_assert_max_num_queries):
    def send(key):
        return post("/v2/enqueue", event_payload(events.token, dedup_key=key))

    assert send("first").status_code == 202  # declares; caches the token and the routing

    with django_assert_max_num_queries(NEW_JOINING[connection.vendor]):
        assert send("second").status_code == 202
    with django_assert_max_num_queries(REPEAT[connection.vendor]):
        assert send("second").status_code == 202

    assert Alert.objects.get(dedup_key="second").repeat_count == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite caps the parameters of one INSERT, so Django splits a bulk insert there",
)
def test_a_batch_of_1000_takes_the_queries_of_a_batch_of_10(alertmanager):
    integration = alertmanager.integration

    def fire(first, n, service):
        alerts = [am_alert(first + k, service=service) for k in range(n)]
        return lambda: ingest(
            integration=integration, alerts=parse("alertmanager", alertmanager_payload(*alerts))
        )

    fire(0, 1, "payments")()  # declares; the batches below join it
    joining = (_count(fire(10, 10, "payments")), _count(fire(10_000, 1000, "payments")))
    repeating = (_count(fire(10, 10, "payments")), _count(fire(10_000, 1000, "payments")))
    assert joining[0] == joining[1]
    assert repeating[0] == repeating[1]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="advisory and row locks are PostgreSQL's; SQLite serialises every writer on its "
    "database lock, so there is nothing narrower to show there",
)
def test_a_delivery_in_flight_holds_up_its_own_alert_only(
    transactional_db, post, alertmanager, monkeypatch
):
    """Another transaction holds the locks of alert 1's delivery: alert 2 to the same
    integration goes through at once; alert 1 again waits past ``lock_timeout`` and answers
    503 (the monitor retries), writing nothing."""
    monkeypatch.setattr(locks_module, "LOCK_TIMEOUT", "300ms")
    integration, token = alertmanager.integration, alertmanager.token
    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                alerts = parse("alertmanager", alertmanager_payload(am_alert(1)))
                locks_module.lock_delivery(integration, [a.dedup_key for a in alerts])
                held.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(timeout=10)
        other = post(URL, alertmanager_payload(am_alert(2)), token)
        same = post(URL, alertmanager_payload(am_alert(1)), token)
    finally:
        release.set()
        holder.join(timeout=30)

    assert other.status_code == 200
    assert same.status_code == 503 and same["Retry-After"] == "30"
    assert list(Alert.objects.values_list("fingerprint", flat=True)) == ["fp-payments-000002"]
