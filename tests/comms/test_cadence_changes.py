"""What the incident's moves do to the updates it owes (rules 3, 5, 6 of
``comms.services.cadence``): a severity change re-plans from the last update, a severity
without a cadence cancels, resolution drops what is not yet due and lets the overdue settle,
re-opening plans again; the receivers do it at once and the tick does it when a signal was
missed. Time is injected, or frozen with time_machine where the receivers run.
"""

from datetime import timedelta

import time_machine

from comms.models import UpdateDue
from comms.selectors import cadence_kept
from comms.services.cadence import cadence_tick
from incidents import services
from incidents.models import Incident

from .cadence_fixtures import *  # noqa: F403  (the fixtures)
from .cadence_fixtures import CUSTOMERS, INTERNAL, at, minutes

Outcome = UpdateDue.Outcome


def rows(incident, audience=INTERNAL):
    return [
        (minutes(r.due_at), r.outcome, minutes(r.sent_at))
        for r in UpdateDue.objects.filter(incident=incident, audience=audience).order_by("due_at")
    ]


def change(incident, severity, user, minute):
    return services.incident_change_severity(
        incident=incident, severity=severity, reason="Impact grew", user=user, now=at(minute)
    )


def move(incident, status, user, minute):
    return services.incident_set_status(incident=incident, status=status, user=user, now=at(minute))


def test_raising_the_severity_re_plans_from_the_last_update_with_the_new_period(
    declare, publish, cadences, cast
):
    incident = declare(0, severity=cadences.sev3)  # internal every 30, no customer cadence
    cadence_tick(now=at(1))
    publish(incident, INTERNAL, 10)  # due 30: on time; next due 40
    assert rows(incident, CUSTOMERS) == []

    change(incident, cadences.sev1, cast.manager, 20)  # every 15 for both
    cadence_tick(now=at(20))
    # From the last update (10) + 15; customers have had none: declared (0) + 15 has
    # passed, so the update is due now, at the change, never in the past.
    # (The row the update at 10 settled was due at 30: rows are listed by due time.)
    assert rows(incident, INTERNAL) == [(25, Outcome.PENDING, None), (30, Outcome.ON_TIME, 10)]
    assert rows(incident, CUSTOMERS) == [(20, Outcome.PENDING, None)]
    pending = UpdateDue.objects.get(incident=incident, outcome="pending", audience=INTERNAL)
    assert pending.period == timedelta(minutes=15)
    publish(incident, CUSTOMERS, 22)
    assert rows(incident, CUSTOMERS) == [(20, Outcome.LATE, 22), (37, Outcome.PENDING, None)]


def test_lowering_to_a_severity_without_cadence_cancels_what_is_not_yet_due(
    declare, cadences, cast
):
    incident = declare(0)  # SEV-2: internal due 15, customers due 30
    cadence_tick(now=at(1))
    change(incident, cadences.sev4, cast.manager, 20)
    cadence_tick(now=at(20))
    # The internal update was overdue at the change: it was owed, and settles by its own
    # 15-minute period (missed at 30, with nothing after it); the customers' is cancelled.
    assert rows(incident, INTERNAL) == [(15, Outcome.PENDING, None)]
    assert rows(incident, CUSTOMERS) == []
    cadence_tick(now=at(30))
    assert rows(incident, INTERNAL) == [(15, Outcome.MISSED, None)]
    cadence_tick(now=at(90))
    assert rows(incident, INTERNAL) == [(15, Outcome.MISSED, None)]


def test_resolution_drops_what_is_not_yet_due_and_the_overdue_settle_late_or_missed(
    declare, publish, cast
):
    incident = declare(0)
    cadence_tick(now=at(1))
    move(incident, "resolved", cast.manager, 20)
    cadence_tick(now=at(20))
    # Internal was due 15 (overdue at resolution): kept; customers' due 30: dropped.
    assert rows(incident, INTERNAL) == [(15, Outcome.PENDING, None)]
    assert rows(incident, CUSTOMERS) == []
    publish(incident, INTERNAL, 25)  # the resolution notice, within the period: late
    publish(incident, CUSTOMERS, 26)  # nothing was owed any more: nothing to settle
    assert rows(incident, INTERNAL) == [(15, Outcome.LATE, 25)]
    assert rows(incident, CUSTOMERS) == []

    other = declare(0, title="Resolved in silence")
    cadence_tick(now=at(1))
    move(other, "resolved", cast.manager, 20)
    cadence_tick(now=at(31))
    assert rows(other, INTERNAL) == [(15, Outcome.MISSED, None)]  # and nothing after it


def test_re_opening_plans_the_next_update_from_the_moment_it_reopens(declare, publish, cast):
    incident = declare(0)
    cadence_tick(now=at(1))
    publish(incident, INTERNAL, 10)
    publish(incident, CUSTOMERS, 10)
    move(incident, "resolved", cast.manager, 12)
    cadence_tick(now=at(12))
    assert UpdateDue.objects.filter(incident=incident, outcome="pending").count() == 0
    move(incident, "investigating", cast.manager, 300)
    cadence_tick(now=at(300))
    # The last update (10) + a period is long past: due at the re-opening, not hours ago,
    # and none of the hours it was resolved count as missed.
    assert rows(incident, INTERNAL) == [(15, Outcome.ON_TIME, 10), (300, Outcome.PENDING, None)]
    assert rows(incident, CUSTOMERS) == [(30, Outcome.ON_TIME, 10), (300, Outcome.PENDING, None)]


def test_the_receivers_plan_re_plan_and_drop_at_once(
    declare, cadences, cast, django_capture_on_commit_callbacks
):
    def committed():
        return django_capture_on_commit_callbacks(execute=True)

    with time_machine.travel(at(0), tick=False), committed():
        incident = declare(0)
    assert rows(incident, INTERNAL) == [(15, Outcome.PENDING, None)]
    assert rows(incident, CUSTOMERS) == [(30, Outcome.PENDING, None)]

    with time_machine.travel(at(5), tick=False), committed():
        change(incident, cadences.sev3, cast.manager, 5)
    assert rows(incident, INTERNAL) == [(30, Outcome.PENDING, None)]  # declared + 30
    assert rows(incident, CUSTOMERS) == []  # SEV-3 has no customer cadence

    with time_machine.travel(at(8), tick=False), committed():
        move(incident, "resolved", cast.manager, 8)
    assert UpdateDue.objects.filter(incident=incident).count() == 0


def test_the_tick_does_what_a_missed_severity_signal_would_have(declare, cadences, cast):
    incident = declare(0)
    cadence_tick(now=at(1))
    # No on-commit callbacks run here: the receiver never heard of the change.
    change(incident, cadences.sev1, cast.manager, 5)
    cadence_tick(now=at(6))
    assert rows(incident, CUSTOMERS) == [(15, Outcome.PENDING, None)]  # declared + 15
    assert rows(incident, INTERNAL) == [(15, Outcome.PENDING, None)]  # the same period


def test_the_figures_leave_drills_out_through_the_real_incidents(declare, publish):
    real = declare(0)
    drill = declare(0, is_drill=True, title="Game day")
    cadence_tick(now=at(1))
    publish(real, INTERNAL, 10)
    publish(drill, INTERNAL, 20)

    kept = cadence_kept(Incident.objects.real(), now=at(21))
    assert kept["internal"] == {"due": 1, "on_time": 1, "late": 0, "missed": 0}
    everything = cadence_kept(Incident.objects.all(), now=at(21))
    assert everything["internal"] == {"due": 2, "on_time": 1, "late": 1, "missed": 0}
    assert everything["customers"] == {"due": 0, "on_time": 0, "late": 0, "missed": 0}
