"""/healthz says how late the clock and the escalation engine are, so a monitor can page about
the pager: ``clock.late_seconds`` against the heartbeat's own interval, and the on-call app's
``checks.escalation.late_seconds`` (the oldest escalation due and not handled), through the
AppConfig ``health_checks`` hook (ircore never imports oncall)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.apps import apps

from incidents.services import incident_declare
from ircore import hooks
from ircore.models import Service, Severity
from ircore.tasks import heartbeat
from oncall import health
from oncall.models import Escalation

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def oncall_checks(monkeypatch):
    """The on-call AppConfig's hook, as ``OncallConfig.health_checks`` declares it."""
    config = type(apps.get_app_config("oncall"))
    monkeypatch.setattr(config, "health_checks", lambda self: health.health_checks(), raising=False)


def declared(minutes_ago: float, *, due_in: float | None) -> Escalation:
    severity, _ = Severity.objects.get_or_create(key="SEV-1", defaults={"rank": 1, "name": "C"})
    service, _ = Service.objects.get_or_create(slug="api", defaults={"name": "API"})
    incident = incident_declare(
        title="Down",
        severity=severity,
        services=[service],
        now=NOW - timedelta(minutes=minutes_ago),
    )
    escalation, _ = Escalation.objects.update_or_create(
        incident=incident,
        defaults={
            "started_at": incident.declared_at,
            "next_escalation_at": None if due_in is None else NOW + timedelta(minutes=due_in),
        },
    )
    return escalation


def body(client):
    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    return response.json()


def test_the_clock_is_late_by_how_far_the_heartbeat_is_past_its_interval(client):
    with time_machine.travel(NOW - timedelta(seconds=20), tick=False):
        heartbeat()
    assert body(client)["clock"]["late_seconds"] == 0

    with time_machine.travel(NOW - timedelta(seconds=95), tick=False):
        heartbeat()
    clock = body(client)["clock"]
    # 95 s since the last tick of a 30 s heartbeat: 65 s late, not yet stale (3 minutes).
    assert (clock["late_seconds"], clock["every_seconds"], clock["ok"]) == (65, 30.0, True)


def test_nothing_due_is_not_late(client):
    declared(10, due_in=5)
    declared(20, due_in=None)

    check = body(client)["checks"]["escalation"]

    assert check == {
        "ok": True,
        "late_seconds": 0,
        "due": 0,
        "oldest_due_at": None,
        "late_after_seconds": 60,
    }


def test_an_overdue_escalation_is_late_by_its_oldest_due_time(client):
    with time_machine.travel(NOW, tick=False):
        heartbeat()
    oldest = declared(30, due_in=-25)
    declared(10, due_in=-5)
    declared(2, due_in=3)

    report = body(client)

    check = report["checks"]["escalation"]
    assert check["late_seconds"] == 25 * 60
    assert check["due"] == 2
    assert check["oldest_due_at"] == oldest.next_escalation_at.isoformat()
    assert check["ok"] is False
    # One field for a monitor: which parts are late.
    assert report["late"] == ["escalation"]


def test_a_step_due_within_the_engines_tick_is_not_yet_late():
    declared(1, due_in=-0.5)

    check = health.escalation_lateness(now=NOW)

    assert (check["late_seconds"], check["due"], check["ok"]) == (30, 1, True)


def test_a_check_that_breaks_is_reported_not_a_failed_healthz(client, monkeypatch):
    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(type(apps.get_app_config("oncall")), "health_checks", broken)

    report = body(client)

    assert report["checks"]["oncall"] == {"ok": False, "error": "RuntimeError"}
    assert "oncall" in report["late"]


def test_ircore_asks_only_the_apps_that_declare_checks():
    # The escalation engine, the update cadence and the learning reminders; the apps without
    # clocks are not asked.
    assert [c.label for c in hooks.apps_with(hooks.ChecksHealth)] == [
        "oncall",
        "comms",
        "postmortems",
    ]
