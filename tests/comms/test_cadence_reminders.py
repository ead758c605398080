"""Reminders of overdue updates (rule 7 of ``comms.services.cadence``): whom, once per
overdue update, again only a period later, on the timeline; the tick's cost follows what is
due, not history; /healthz says how late the reminders are. Time is injected (``now=``).
"""

from datetime import timedelta

import pytest
import time_machine

from comms.health import reminder_lateness
from comms.models import UpdateDue
from comms.services.cadence import cadence_tick
from comms.tasks import cadence_due
from incidents import services
from incidents.models import TimelineEntry
from ircore.models import Delivery, Profile

from .cadence_fixtures import *  # noqa: F403  (the fixtures)
from .cadence_fixtures import CUSTOMERS, INTERNAL, T0, at, minutes

TOPIC = "comms.cadence"


def reminders(user=None):
    """``[(recipient, subject)]`` of the cadence reminders, oldest first."""
    found = Delivery.objects.filter(topic=TOPIC).order_by("created_at", "id")
    if user is not None:
        found = found.filter(recipient=user)
    return [(d.recipient.get_username(), d.subject) for d in found]


def overdue_entries(incident):
    return list(
        TimelineEntry.objects.filter(
            incident=incident, kind=TimelineEntry.Kind.UPDATE, data__cadence="overdue"
        )
        .order_by("occurred_at", "id")
        .values_list("text", flat=True)
    )


@pytest.fixture
def certified(cast):
    Profile.objects.update_or_create(
        user=cast.responder, defaults={"ic_certified_on": (T0 - timedelta(days=90)).date()}
    )
    return cast.responder


def assign(incident, role, user, by, minute):
    services.role_assign(incident=incident, role=role, user=user, by=by, now=at(minute))


def test_an_overdue_update_reminds_the_communications_lead_once_per_period(
    declare, cast, certified
):
    incident = declare(0, severity=None)  # SEV-2: internal every 15, customers every 30
    assign(incident, "ic", certified, cast.manager, 1)
    assign(incident, "comms_lead", cast.support, cast.manager, 1)
    cadence_tick(now=at(1))
    assert cadence_tick(now=at(14)) == 0  # nothing due yet

    assert cadence_tick(now=at(17)) == 1
    assert cadence_tick(now=at(17)) == 0  # the same tick again: never twice
    assert cadence_tick(now=at(29)) == 0  # still the same overdue update
    ref = incident.reference
    assert reminders() == [("sue", f"[{ref}] Internal update overdue by 2 min")]

    # At 30 the internal update due 15 is missed and the one due 30 is overdue, with the
    # first customer update: one reminder each, a period after the first.
    assert cadence_tick(now=at(30)) == 2
    assert cadence_tick(now=at(31)) == 0
    assert reminders()[1:] == [
        ("sue", f"[{ref}] Internal update now overdue"),
        ("sue", f"[{ref}] Customers update now overdue"),
    ]
    assert overdue_entries(incident) == [
        "Internal update overdue by 2 min (due 09:15 UTC, every 15 min): reminded sue, "
        "the Communications Lead.",
        "Internal update now overdue (due 09:30 UTC, every 15 min): reminded sue, "
        "the Communications Lead.",
        "Customers update now overdue (due 09:30 UTC, every 30 min): reminded sue, "
        "the Communications Lead.",
    ]
    delivery = Delivery.objects.filter(topic=TOPIC).first()
    assert delivery.target == "sue@example.com"
    assert f"/admin/incidents/incident/{incident.pk}/change/" in delivery.payload["link"]
    assert set(UpdateDue.objects.filter(incident=incident).values_list("outcome", flat=True)) == {
        "missed",
        "pending",
    }


def test_without_a_communications_lead_the_ic_is_reminded_and_else_the_declarer(
    declare, cast, certified
):
    with_ic = declare(0, title="With an IC")
    assign(with_ic, "ic", certified, cast.manager, 1)
    bare = declare(0, title="Nobody assigned", user=cast.responder)
    cadence_tick(now=at(1))
    cadence_tick(now=at(16))
    assert sorted(reminders()) == [
        ("rob", f"[{with_ic.reference}] Internal update overdue by 1 min"),
        ("rob", f"[{bare.reference}] Internal update overdue by 1 min"),
    ]
    assert overdue_entries(with_ic)[0].endswith(
        "reminded rob, the Incident Commander (no Communications Lead)."
    )
    assert overdue_entries(bare)[0].endswith(
        "reminded rob, who declared it (no Communications Lead or IC)."
    )


def test_an_incident_nobody_declared_or_holds_says_nobody_was_reminded_once(declare):
    incident = declare(0, user=None)
    cadence_tick(now=at(1))
    cadence_tick(now=at(16))
    cadence_tick(now=at(17))
    assert reminders() == []
    assert overdue_entries(incident) == [
        "Internal update overdue by 1 min (due 09:15 UTC, every 15 min): nobody to remind "
        "(no Communications Lead, IC or declarer)."
    ]


def test_a_published_update_stops_the_reminders(declare, publish, cast):
    incident = declare(0)
    cadence_tick(now=at(1))
    publish(incident, INTERNAL, 14)
    publish(incident, CUSTOMERS, 14)
    assert cadence_tick(now=at(20)) == 0
    assert reminders() == []


def test_a_drill_owes_and_is_reminded_like_a_real_incident(declare, cast):
    drill = declare(0, is_drill=True)
    cadence_tick(now=at(1))
    assert cadence_tick(now=at(16)) == 1
    assert reminders() == [("mia", f"[{drill.reference}] Internal update overdue by 1 min (drill)")]


def test_a_resolved_incident_is_not_reminded(declare, cast):
    incident = declare(0)
    cadence_tick(now=at(1))
    services.incident_set_status(
        incident=incident, status="resolved", user=cast.manager, now=at(10)
    )
    assert cadence_tick(now=at(16)) == 0
    assert reminders() == []


def test_after_a_clock_outage_each_silent_period_is_missed_and_one_reminder_goes(declare):
    incident = declare(0)
    cadence_tick(now=at(1))
    # The beat was down from 1 to 80: the updates due 15, 30, 45 and 60 all went by.
    assert cadence_tick(now=at(80)) == 2  # the internal one due 75, the customers' due 60
    internal = UpdateDue.objects.filter(incident=incident, audience=INTERNAL).order_by("due_at")
    assert [(minutes(r.due_at), r.outcome) for r in internal] == [
        (15, "missed"),
        (30, "missed"),
        (45, "missed"),
        (60, "missed"),
        (75, "pending"),
    ]
    assert [minutes(r.reminded_at) for r in internal] == [None, None, None, None, 80]


def test_the_tick_costs_the_same_whatever_the_history(declare, publish, django_assert_num_queries):
    incident = declare(0)
    cadence_tick(now=at(1))
    for minute in range(5, 200, 10):  # twenty settled updates of history
        publish(incident, INTERNAL, minute)
        publish(incident, CUSTOMERS, minute)
    # Nothing due at 200: 1. overdue rows, 2. rows of ended incidents, 3. open incidents
    # whose rows do not match their severity. Nothing else, however long the history.
    with django_assert_num_queries(3):
        assert cadence_tick(now=at(200)) == 0


def test_healthz_says_how_late_the_oldest_unreminded_update_is(declare):
    incident = declare(0)
    cadence_tick(now=at(1))
    assert reminder_lateness(now=at(10))["late_seconds"] == 0
    late = reminder_lateness(now=at(20))
    assert (late["ok"], late["late_seconds"]) == (False, 300)
    assert late["oldest_due_at"] == at(15).isoformat()
    cadence_tick(now=at(20))
    assert reminder_lateness(now=at(20)) == {
        "ok": True,
        "late_seconds": 0,
        "oldest_due_at": None,
        "late_after_seconds": 120,
    }
    assert incident.pk


def test_healthz_lists_the_update_cadence_as_late_when_reminders_stop(client, declare):
    declare(0)
    cadence_tick(now=at(1))
    with time_machine.travel(at(20), tick=False):
        report = client.get("/healthz").json()
    assert report["checks"]["update_cadence"]["late_seconds"] == 300
    assert "update_cadence" in report["late"]


def test_the_beat_task_runs_the_tick_at_the_current_time(declare):
    declare(0)
    with time_machine.travel(at(1), tick=False):
        assert cadence_due() == 0
    with time_machine.travel(at(16), tick=False):
        assert cadence_due() == 1
        assert cadence_due() == 0
