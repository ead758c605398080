"""Heartbeats: a ping (GET or POST with the token in the URL) sets the next due time; the
beat reconciler raises one alert through the ingest path when a ping is late beyond its
grace, once, and the next ping resolves it. Alertmanager's Watchdog counts as a ping."""

from datetime import timedelta

import pytest

from incidents.alerts.models import Alert, Integration
from incidents.alerts.services import (
    HEARTBEAT_KEY,
    heartbeat_ping,
    heartbeats_check,
    ingest,
    integration_set_heartbeat,
    parse,
)
from incidents.models import Incident
from incidents.tasks import check_heartbeats

from .conftest import T0, alertmanager_payload, am_alert, at


@pytest.fixture
def nightly(make_integration, catalog, make_user):
    integration, token = make_integration("generic", name="nightly-settlement")
    integration.service = catalog.payments
    integration.save()
    integration_set_heartbeat(
        integration=integration,
        every=timedelta(minutes=30),
        grace=timedelta(minutes=15),
        user=make_user("hb"),
        now=T0,
    )
    return integration, token


def test_a_ping_sets_the_next_due_time(client, nightly):
    integration, token = nightly

    assert client.get(f"/api/v1/alerts/heartbeat/{token}/").status_code == 200
    assert client.post(f"/api/v1/alerts/heartbeat/{token}/").status_code == 200

    integration.refresh_from_db()
    assert integration.last_ping_at is not None
    assert integration.heartbeat_due_at == integration.last_ping_at + timedelta(minutes=45)


def test_a_ping_with_a_wrong_token_is_401_and_a_disabled_one_403(client, nightly):
    integration, token = nightly
    assert client.get("/api/v1/alerts/heartbeat/nope/").status_code == 401
    integration.enabled = False
    integration.save()
    assert client.get(f"/api/v1/alerts/heartbeat/{token}/").status_code == 403
    integration.refresh_from_db()
    assert integration.last_ping_at is None


def test_late_ping_raises_once_and_resumes(nightly):
    integration, _ = nightly
    heartbeat_ping(integration=integration, now=at(0))

    assert heartbeats_check(now=at(44)) == 0  # due at 45 (every 30 + grace 15)
    assert heartbeats_check(now=at(45)) == 1
    assert heartbeats_check(now=at(46)) == 0  # once
    assert heartbeats_check(now=at(120)) == 0

    alert = Alert.objects.get()
    assert alert.dedup_key == HEARTBEAT_KEY and alert.status == "firing"
    assert alert.summary == "No heartbeat from nightly-settlement for 45 min"
    incident = Incident.objects.get()
    assert incident.title == "No heartbeat from nightly-settlement for 45 min"
    assert incident.impact_started_at == at(30)  # when the ping was due

    heartbeat_ping(integration=integration, now=at(130))

    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert incident.timeline.filter(data__action="all_resolved").count() == 1
    integration.refresh_from_db()
    assert integration.heartbeat_due_at == at(175)
    assert heartbeats_check(now=at(174)) == 0
    assert heartbeats_check(now=at(175)) == 1
    assert Alert.objects.filter(status="firing").count() == 1


def test_never_pinged_counts_from_when_the_heartbeat_was_set(nightly):
    assert heartbeats_check(now=at(50)) == 1
    assert Alert.objects.get().summary == "No heartbeat from nightly-settlement for 50 min"


def test_disabled_or_switched_off_integrations_stop_being_due(nightly, make_user):
    integration, _ = nightly
    Integration.objects.filter(pk=integration.pk).update(enabled=False)

    assert heartbeats_check(now=at(60)) == 0
    integration.refresh_from_db()
    assert integration.heartbeat_due_at is None
    assert not Alert.objects.exists()


def test_the_beat_task_runs_the_reconciler(nightly):
    integration, _ = nightly
    Integration.objects.filter(pk=integration.pk).update(heartbeat_due_at=T0)

    assert check_heartbeats() == 1
    assert Alert.objects.filter(dedup_key=HEARTBEAT_KEY).count() == 1


def test_alertmanager_watchdog_is_a_ping_not_an_alert(make_integration, catalog, make_user):
    integration, _ = make_integration("alertmanager", name="prometheus")
    integration.service = catalog.payments
    integration.save()
    integration_set_heartbeat(
        integration=integration, every=timedelta(minutes=5), user=make_user("w"), now=T0
    )
    watchdog = {
        "labels": {"alertname": "Watchdog", "severity": "none"},
        "annotations": {"summary": "An alert that should always be firing"},
        "fingerprint": "watchdog",
    }

    ingest(
        integration=integration,
        alerts=parse("alertmanager", alertmanager_payload(watchdog)),
        now=at(1),
    )
    integration.refresh_from_db()
    assert integration.last_ping_at == at(1)
    assert not Alert.objects.exists()

    assert heartbeats_check(now=at(20)) == 1  # Alertmanager went silent
    assert Alert.objects.get().status == "firing"

    body = alertmanager_payload(watchdog, am_alert(1))
    ingest(integration=integration, alerts=parse("alertmanager", body), now=at(21))

    assert Alert.objects.get(dedup_key=HEARTBEAT_KEY).status == "resolved"
    assert Alert.objects.filter(status="firing").count() == 1  # am_alert(1), stored as usual
