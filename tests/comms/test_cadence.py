"""The update cadence's rules (``comms.services.cadence``) over scripted incidents: what is
owed when, on time, late and missed, and what the figures say. Time is injected: every
call takes ``now=`` in minutes after ``T0``; a SEV-2 owes internal updates every 15 minutes
and customer updates every 30.
"""

from comms.models import Audience, UpdateDue
from comms.selectors import cadence_kept, next_update_due
from comms.services.cadence import cadence_tick, update_sent
from incidents.models import Incident

from .cadence_fixtures import *  # noqa: F403  (the fixtures)
from .cadence_fixtures import CUSTOMERS, INTERNAL, at, minutes

Outcome = UpdateDue.Outcome


def rows(incident, audience=INTERNAL):
    """``[(due, outcome, sent)]`` in minutes after T0, oldest first."""
    return [
        (minutes(r.due_at), r.outcome, minutes(r.sent_at))
        for r in UpdateDue.objects.filter(incident=incident, audience=audience).order_by("due_at")
    ]


def test_a_declared_incident_owes_its_first_updates_one_period_after_declaration(declare):
    incident = declare(0)
    cadence_tick(now=at(1))

    assert rows(incident, INTERNAL) == [(15, Outcome.PENDING, None)]
    assert rows(incident, CUSTOMERS) == [(30, Outcome.PENDING, None)]
    due = next_update_due(incident, now=at(1))
    assert (minutes(due.due_at), due.overdue_by.total_seconds()) == (15, 0)
    # Unpacks as the (due_at, overdue_by) pair the displays read.
    due_at, overdue_by = next_update_due(incident, Audience.CUSTOMERS, now=at(40))
    assert (minutes(due_at), overdue_by.total_seconds()) == (30, 600)


def test_a_severity_without_a_cadence_owes_nothing(declare, cadences):
    incident = declare(0, severity=cadences.sev4)
    cadence_tick(now=at(1))
    assert not UpdateDue.objects.filter(incident=incident).exists()
    assert next_update_due(incident, now=at(1)) is None


def test_on_time_late_and_missed_over_a_scripted_incident(declare, publish):
    incident = declare(0)
    cadence_tick(now=at(1))
    publish(incident, INTERNAL, 12)  # due 15: on time; next due 27
    publish(incident, INTERNAL, 30)  # due 27: 3 minutes late; next due 45
    cadence_tick(now=at(59))  # due 45, not yet a whole period gone
    cadence_tick(now=at(60))  # due 45 missed at 60; the next is due at 60
    publish(incident, INTERNAL, 64)  # due 60: late; next due 79

    assert rows(incident) == [
        (15, Outcome.ON_TIME, 12),
        (27, Outcome.LATE, 30),
        (45, Outcome.MISSED, None),
        (60, Outcome.LATE, 64),
        (79, Outcome.PENDING, None),
    ]
    kept = cadence_kept(Incident.objects.all(), now=at(70))
    assert kept["internal"] == {"due": 4, "on_time": 1, "late": 2, "missed": 1}
    # Customers: due at 30, nothing sent; overdue since 30, missed at 60, the next due 60.
    assert kept["customers"] == {"due": 2, "on_time": 0, "late": 0, "missed": 1}


def test_update_sent_counts_a_notice_once_and_ignores_executive_briefings(declare, publish):
    incident = declare(0)
    cadence_tick(now=at(1))
    notice = publish(incident, INTERNAL, 5)
    assert update_sent(notice, now=at(6)) is None  # already counted
    briefing = publish(incident, Audience.EXECUTIVES, 7)
    assert rows(incident) == [(15, Outcome.ON_TIME, 5), (20, Outcome.PENDING, None)]
    assert UpdateDue.objects.filter(audience=Audience.EXECUTIVES).count() == 0
    assert briefing.pk
