"""/healthz says how late the postmortem and action item reminders are (the postmortems
AppConfig's ``health_checks`` hook): a reminder past two of its beats means they are not
leaving."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from postmortems.health import health_checks, late_after
from postmortems.models import ActionItem, Postmortem
from postmortems.services.postmortem_clock import postmortem_reminders_due

from .postmortem_world import at


def healthz(client, now):
    with time_machine.travel(now, tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    return response.json()


def test_the_slack_is_two_of_each_beat_from_the_schedule():
    # config/celery.py: postmortem reminders every 5 minutes, action items every 15.
    assert late_after("postmortem_reminders") == timedelta(minutes=11)
    assert late_after("action_item_reminders") == timedelta(minutes=31)


def test_reminders_due_within_their_beats_are_not_late(client, world, pm):
    # pm's first reminder is at T0+26h.
    report = healthz(client, at(26) + timedelta(minutes=10))

    check = report["checks"]["postmortem_reminders"]
    assert (check["ok"], check["late_seconds"]) == (True, 600)
    assert report["checks"]["action_item_reminders"]["late_seconds"] == 0
    assert "postmortem_reminders" not in report["late"]


def test_a_reminder_past_two_beats_is_late_and_listed(client, world, pm):
    report = healthz(client, at(26) + late_after("postmortem_reminders") + timedelta(seconds=1))

    check = report["checks"]["postmortem_reminders"]
    assert check["ok"] is False
    assert check["oldest_due_at"] == at(26).isoformat()
    assert "postmortem_reminders" in report["late"]


def test_a_sent_reminder_is_no_longer_counted(client, world, pm):
    postmortem_reminders_due(now=at(26))
    pm.refresh_from_db()
    assert pm.next_reminder_at == at(50)

    check = healthz(client, at(27))["checks"]["postmortem_reminders"]
    assert (check["ok"], check["late_seconds"], check["oldest_due_at"]) == (True, 0, None)


@pytest.mark.django_db
def test_the_demo_leaves_no_reminder_waiting(settings, tmp_path):
    # The demo's story is in the past; its reminders were caught up as the beats would have.
    settings.VAR_DIR = tmp_path
    call_command("bootstrap", stdout=StringIO())

    checks = health_checks()
    assert all(check["ok"] for check in checks.values()), checks
    assert Postmortem.objects.exists() and ActionItem.objects.exists()
    # The overdue demo action item's owner heard of it, once.
    overdue = ActionItem.objects.get(title__startswith="Alert on Merchant Dashboard")
    assert overdue.overdue_notices == 1
