"""The cost of an alert does not grow with what is open: the same number of queries to take
one alert (new, joining, repeated, resolved) at 10 and at 1,000 open alerts; a 1,000-alert
batch takes as many queries as a 10-alert one on PostgreSQL (bulk reads and writes)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.alerts.models import RoutingRule
from incidents.alerts.services import ingest, parse
from ircore.models import Service

from .conftest import alertmanager_payload, am_alert

URL = "/api/v1/alerts/alertmanager/"


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
    # joining: integration lock and token, rules, severities, firing lookup, windows, service
    # lock, group lookup, insert, timeline entry + history: a dozen or so, never per alert.
    assert max(at_10) <= 40, at_10
    print("queries per alert (join, repeat, resolve, declare):", at_10)


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
