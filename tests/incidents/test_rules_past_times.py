"""Recording an incident after the fact: roles and notes take the time they happened
(``occurred_at``), checked against the incident's chronology."""

from datetime import UTC, date, datetime, timedelta

import pytest

from incidents import services
from incidents.models import RoleAssignment, TimelineEntry
from ircore.errors import RuleError
from ircore.models import Profile

from .conftest import T0, at

IC = RoleAssignment.Role.INCIDENT_COMMANDER


def test_a_reconstructed_incident_shows_its_ic_while_it_ran(declare, people):
    # Written up two hours after it was resolved.
    later = at(180)
    incident = declare("Settlement batch stuck", now=T0)
    services.incident_set_status(
        incident=incident, status="resolved", user=people.manager, now=at(60)
    )
    first = services.role_assign(
        incident=incident,
        role=IC,
        user=people.certified,
        by=people.manager,
        occurred_at=at(5),
        now=later,
    )
    second = services.role_assign(
        incident=incident,
        role=IC,
        user=people.certified_too,
        by=people.manager,
        occurred_at=at(30),
        now=later,
    )
    services.role_relieve(assignment=second, by=people.manager, occurred_at=at(60), now=later)
    services.note_add(
        incident=incident,
        kind="decision",
        text="Replay the batch from the 09:00 snapshot.",
        user=people.certified,
        occurred_at=at(20),
        now=later,
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.assigned_at, first.relieved_at) == (at(5), at(30))
    assert (second.assigned_at, second.relieved_at) == (at(30), at(60))
    story = [
        (e.occurred_at, e.kind) for e in incident.timeline.exclude(kind=TimelineEntry.Kind.DECLARED)
    ]
    assert story == [
        (at(5), "role"),
        (at(20), "decision"),
        (at(30), "role"),
        (at(60), "ack"),  # resolving straight from declared acknowledges
        (at(60), "status"),  # resolved
        (at(60), "role"),  # stepped down
    ]


def test_without_a_time_a_role_is_taken_now(declare, people):
    assignment = services.role_assign(
        incident=declare(), role=IC, user=people.certified, by=people.manager, now=at(7)
    )
    assert assignment.assigned_at == at(7)


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        (at(-1), "Cannot be before the declaration (2025-03-14 09:00:00 UTC)."),
        (at(11), "A time cannot be in the future."),
        (datetime(2025, 3, 14, 9, 5), "Give a time with its time zone (or in UTC)."),
        ("09:05", "Give a date and time."),
    ],
)
def test_an_assignment_time_outside_the_incident_is_refused(declare, people, occurred_at, message):
    incident = declare()
    with pytest.raises(RuleError) as refused:
        services.role_assign(
            incident=incident,
            role=IC,
            user=people.certified,
            by=people.manager,
            occurred_at=occurred_at,
            now=at(10),
        )
    assert (refused.value.field, refused.value.message) == ("occurred_at", message)
    assert not incident.roles.exists()
    assert incident.timeline.count() == 1


def test_a_hand_over_cannot_be_dated_before_the_holder_took_the_role(declare, people):
    incident = declare()
    holder = services.role_assign(
        incident=incident, role=IC, user=people.certified, by=people.manager, now=at(20)
    )
    with pytest.raises(RuleError) as refused:
        services.role_assign(
            incident=incident,
            role=IC,
            user=people.certified_too,
            by=people.manager,
            occurred_at=at(10),
            now=at(30),
        )
    assert refused.value.field == "occurred_at"
    assert "a hand-over cannot be earlier" in refused.value.message
    holder.refresh_from_db()
    assert holder.is_current
    assert incident.roles.count() == 1


@pytest.mark.parametrize(("minute", "field"), [(4, "occurred_at"), (31, "occurred_at")])
def test_a_relief_is_between_its_assignment_and_now(declare, people, minute, field):
    incident = declare()
    sme = services.role_assign(
        incident=incident, role="sme", user=people.responder, by=people.manager, now=at(5)
    )
    with pytest.raises(RuleError) as refused:
        services.role_relieve(assignment=sme, by=people.manager, occurred_at=at(minute), now=at(30))
    assert refused.value.field == field
    sme.refresh_from_db()
    assert sme.is_current


def test_certification_is_judged_on_the_day_of_the_assignment(declare, people):
    # Certified until T0's date, assigned the next day, recorded for the day before.
    Profile.objects.filter(user=people.expired).update(ic_certification_expires=date(2025, 3, 14))
    incident = declare()
    next_day = T0 + timedelta(days=1)
    assignment = services.role_assign(
        incident=incident,
        role=IC,
        user=people.expired,
        by=people.responder,
        occurred_at=at(30),
        now=next_day,
    )
    assert assignment.override_reason == ""
    with pytest.raises(RuleError) as refused:
        services.role_assign(
            incident=declare("Another"),
            role=IC,
            user=people.expired,
            by=people.responder,
            now=next_day,
        )
    assert refused.value.field == "user"


def test_a_note_may_be_dated_before_the_declaration_but_not_ahead_of_the_clock(declare, people):
    incident = declare()
    cause = services.note_add(
        incident=incident,
        kind="note",
        text="Deploy of v2.32 at 08:50, ten minutes before the errors.",
        user=people.responder,
        occurred_at=datetime(2025, 3, 14, 8, 50, tzinfo=UTC),
        now=at(30),
    )
    assert incident.timeline.first() == cause
    with pytest.raises(RuleError) as refused:
        services.note_add(
            incident=incident,
            kind="note",
            text="From the future",
            user=people.responder,
            occurred_at=at(36),
            now=at(30),
        )
    assert refused.value.field == "occurred_at"
