"""Concurrent duplicate deliveries on PostgreSQL: the same new alert posted by several
threads at once makes one alert and one incident (the integration row lock serialises them;
the partial unique index backs it), and two integrations alerting on one service at once
make one incident (the service row lock serialises grouping)."""

import importlib
import json
import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from incidents.alerts.models import Alert, Integration
from incidents.models import Incident
from tests.racing import race

from .conftest import alertmanager_payload, am_alert, event_payload

# The module, not the function the package exports under the same name.
locks_module = importlib.import_module("incidents.alerts.services.locks")

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks; SQLite serialises writers on one file lock, "
    "so threads racing on one alert prove nothing there",
)


def _post(url, body, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = Client().post(url, json.dumps(body), content_type="application/json", **headers)
    return response.status_code, response.json()


def test_concurrent_duplicate_alertmanager_posts_make_one_alert_and_one_incident(
    transactional_db, alertmanager
):
    body = alertmanager_payload(am_alert(1), am_alert(2))
    url = "/api/v1/alerts/alertmanager/"
    results, errors = race([lambda: _post(url, body, alertmanager.token)] * 6)

    assert errors == [None] * 6
    assert results == [(200, {"status": "success", "alerts": 2})] * 6
    assert Alert.objects.count() == 2
    assert Incident.objects.count() == 1
    assert sorted(Alert.objects.values_list("repeat_count", flat=True)) == [5, 5]


def test_concurrent_duplicate_events_make_one_alert_and_one_incident(transactional_db, events):
    results, errors = race([lambda: _post("/v2/enqueue", event_payload(events.token))] * 6)

    assert errors == [None] * 6
    assert {r[0] for r in results} == {202}
    assert Alert.objects.count() == 1 and Incident.objects.count() == 1


def test_two_integrations_on_one_service_at_once_make_one_incident(
    transactional_db, make_integration
):
    first, first_token = make_integration("alertmanager", name="prom-a")
    second, second_token = make_integration("alertmanager", name="prom-b")
    url = "/api/v1/alerts/alertmanager/"
    calls = [
        lambda: _post(url, alertmanager_payload(am_alert(1)), first_token),
        lambda: _post(url, alertmanager_payload(am_alert(2)), second_token),
    ] * 3
    results, errors = race(calls)

    assert errors == [None] * 6 and {r[0] for r in results} == {200}
    assert Alert.objects.count() == 2
    assert Incident.objects.count() == 1


def test_a_lock_not_granted_in_time_answers_503_and_the_retry_counts_once(
    transactional_db, alertmanager, monkeypatch
):
    """Another transaction holds the integration row past ``lock_timeout``: PostgreSQL
    cancels the wait (LockNotAvailable), the endpoint answers 503 with Retry-After, nothing
    is written; the monitor's retry then goes through."""
    monkeypatch.setattr(locks_module, "LOCK_TIMEOUT", "200ms")
    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Integration.objects.select_for_update().get(pk=alertmanager.integration.pk)
                held.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(timeout=10)
        url = "/api/v1/alerts/alertmanager/"
        client = Client()
        response = client.post(
            url,
            json.dumps(alertmanager_payload()),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {alertmanager.token}",
        )
    finally:
        release.set()
        holder.join(timeout=30)

    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert not Alert.objects.exists()
    assert _post(url, alertmanager_payload(), alertmanager.token)[0] == 200
    assert Alert.objects.count() == 1 and Incident.objects.count() == 1
