"""A postmortem opens by itself when an incident whose severity requires one is resolved:
due at resolution + the severity's deadline, owned by the incident commander. The signal is
the fast path; the beat reconciler opens any it missed. Drills never open one by themselves."""

from datetime import timedelta

import pytest
import time_machine

from incidents import services as incidents
from incidents.models import Incident, RoleAssignment, TimelineEntry
from ircore.errors import ConflictError
from postmortems.models import Postmortem
from postmortems.permissions import NotAllowed
from postmortems.services.postmortems import (
    postmortem_open,
    postmortem_set_deadline,
    postmortems_open_missed,
)

from .postmortem_world import T0, at, d, declare, h, resolve


def resolved(world, captured, *, severity=None, drill=False, ic=None, hours=2):
    incident = declare(world, severity=severity, drill=drill, ic=ic)
    with time_machine.travel(at(hours), tick=False), captured(execute=True):
        resolve(incident, world.manager, at(hours))
    incident.refresh_from_db()
    return incident


def test_resolving_a_sev2_opens_its_postmortem_due_in_48_hours(
    world, django_capture_on_commit_callbacks
):
    incident = resolved(world, django_capture_on_commit_callbacks, ic=world.ivy)

    pm = Postmortem.objects.get(incident=incident)
    assert pm.status == Postmortem.Status.DRAFT
    assert pm.opened_at == at(2) and pm.opened_by is None
    assert pm.due_at == incident.resolved_at + 48 * h == at(50)
    assert pm.deadline_basis == incident.resolved_at and pm.due_from_policy
    assert pm.owner == world.ivy  # the incident commander
    # What the incident knows starts the sections: its timeline as rows, its impact.
    texts = list(pm.timeline.values_list("text", flat=True))
    assert any("declared" in t for t in texts) and any("resolved" in t for t in texts)
    assert pm.timeline.filter(kind=TimelineEntry.Kind.DECLARED, starred=True).exists()
    entry = incident.timeline.get(kind=TimelineEntry.Kind.POSTMORTEM)
    assert "Opened on resolution" in entry.text and "2025-03-16 11:00 UTC" in entry.text
    assert pm.history.get().history_change_reason == "opened on resolution"


def test_sev1_is_due_in_24_hours(world, django_capture_on_commit_callbacks):
    incident = resolved(world, django_capture_on_commit_callbacks, severity=world.sev1, hours=5)
    assert Postmortem.objects.get(incident=incident).due_at == at(5) + 24 * h


def test_a_severity_that_requires_none_opens_none(world, django_capture_on_commit_callbacks):
    incident = resolved(world, django_capture_on_commit_callbacks, severity=world.sev3)
    assert not Postmortem.objects.filter(incident=incident).exists()
    # Nor does the reconciler.
    assert postmortems_open_missed(now=at(3)) == 0
    assert not Postmortem.objects.exists()


def test_drills_open_none_by_themselves(world, django_capture_on_commit_callbacks):
    """Drills never count, and their review is the drill's own assessment."""
    drill = resolved(world, django_capture_on_commit_callbacks, severity=world.sev1, drill=True)
    assert postmortems_open_missed(now=at(3)) == 0
    assert not Postmortem.objects.filter(incident=drill).exists()
    # Anyone who wants one opens it by hand; it stays out of the real figures.
    pm = postmortem_open(incident=drill, user=world.manager, now=at(3))
    assert pm.due_at == at(2) + 24 * h
    assert not Postmortem.objects.real().exists()


def test_the_owner_is_the_last_incident_commander_once_relieved(
    world, django_capture_on_commit_callbacks
):
    incident = declare(world, ic=world.ivy)
    incidents.role_relieve(
        assignment=incident.roles.get(role=RoleAssignment.Role.INCIDENT_COMMANDER),
        by=world.manager,
        now=at(1),
    )
    with time_machine.travel(at(2), tick=False), django_capture_on_commit_callbacks(execute=True):
        resolve(incident, world.manager, at(2))
    assert Postmortem.objects.get(incident=incident).owner == world.ivy


def test_without_an_ic_the_declarer_owns_it(world, django_capture_on_commit_callbacks):
    incident = resolved(world, django_capture_on_commit_callbacks)
    assert Postmortem.objects.get(incident=incident).owner == world.manager


def test_the_reconciler_opens_what_the_signal_missed_once(world):
    incident = declare(world, ic=world.ivy)
    resolve(incident, world.manager, at(2))  # on_commit never runs here: the signal is lost

    assert not Postmortem.objects.exists()
    assert postmortems_open_missed(now=at(2.1)) == 1
    pm = Postmortem.objects.get(incident=incident)
    assert (pm.due_at, pm.owner, pm.opened_at) == (at(50), world.ivy, at(2.1))
    # A second tick (or the late signal) finds it there.
    assert postmortems_open_missed(now=at(2.2)) == 0
    assert Postmortem.objects.count() == 1


def test_the_reconciler_looks_back_a_bounded_window(world):
    incident = declare(world)
    resolve(incident, world.manager, at(2))
    assert postmortems_open_missed(now=at(2) + 31 * d) == 0  # past RESOLVED_WINDOW
    assert postmortems_open_missed(now=at(2) + 29 * d) == 1


def test_reopened_and_resolved_again_counts_from_the_new_resolution(
    world, django_capture_on_commit_callbacks
):
    incident = resolved(world, django_capture_on_commit_callbacks, ic=world.ivy)
    incidents.incident_set_status(
        incident=incident, status=Incident.Status.INVESTIGATING, user=world.manager, now=at(3)
    )
    with time_machine.travel(at(30), tick=False), django_capture_on_commit_callbacks(execute=True):
        resolve(incident, world.manager, at(30))
    pm = Postmortem.objects.get(incident=incident)
    assert pm.due_at == at(30) + 48 * h and pm.deadline_basis == at(30)
    assert (
        "counted from the resolution"
        in incident.timeline.filter(kind=TimelineEntry.Kind.POSTMORTEM).latest("id").text
    )


def test_the_reconciler_moves_a_policy_deadline_the_signal_missed(
    world, django_capture_on_commit_callbacks
):
    incident = resolved(world, django_capture_on_commit_callbacks)
    incidents.incident_set_status(
        incident=incident, status=Incident.Status.INVESTIGATING, user=world.manager, now=at(3)
    )
    resolve(incident, world.manager, at(10))  # no signal
    assert postmortems_open_missed(now=at(11)) == 1
    assert Postmortem.objects.get(incident=incident).due_at == at(58)


def test_a_deadline_set_by_hand_stays_when_resolved_again(
    world, django_capture_on_commit_callbacks
):
    incident = resolved(world, django_capture_on_commit_callbacks)
    pm = Postmortem.objects.get(incident=incident)
    postmortem_set_deadline(
        postmortem=pm, user=world.manager, due_at=at(100), reason="Review after the holiday"
    )
    incidents.incident_set_status(
        incident=incident, status=Incident.Status.INVESTIGATING, user=world.manager, now=at(3)
    )
    with time_machine.travel(at(10), tick=False), django_capture_on_commit_callbacks(execute=True):
        resolve(incident, world.manager, at(10))
    assert postmortems_open_missed(now=at(11)) == 0
    pm.refresh_from_db()
    assert (pm.due_at, pm.due_from_policy) == (at(100), False)


def test_opened_by_hand_before_resolution_gets_its_deadline_on_resolution(
    world, django_capture_on_commit_callbacks
):
    incident = declare(world, severity=world.sev3)
    pm = postmortem_open(incident=incident, user=world.ivy, now=at(1))
    assert pm.due_at is None and pm.opened_by == world.ivy
    assert pm.owner == world.manager  # the declarer: no IC was named
    with time_machine.travel(at(2), tick=False), django_capture_on_commit_callbacks(execute=True):
        resolve(incident, world.manager, at(2))
    pm.refresh_from_db()
    assert pm.due_at is None  # SEV-3 has no deadline in this policy: nothing to count from


def test_opening_by_hand_twice_is_refused_naming_the_incident(world):
    incident = declare(world, severity=world.sev3)
    postmortem_open(incident=incident, user=world.ivy, now=at(1))
    with pytest.raises(ConflictError) as caught:
        postmortem_open(incident=incident, user=world.manager, now=at(2))
    assert caught.value.field == "incident"


def test_leadership_and_support_cannot_open_one(world):
    incident = declare(world, severity=world.sev3)
    for person in (world.leader, world.support, world.outsider):
        with pytest.raises(NotAllowed):
            postmortem_open(incident=incident, user=person, now=at(1))
    assert not Postmortem.objects.exists()


def test_a_closed_incident_still_gets_its_postmortem(world):
    incident = declare(world)
    resolve(incident, world.manager, at(2))
    incidents.incident_set_status(
        incident=incident, status=Incident.Status.CLOSED, user=world.manager, now=at(2.5)
    )
    assert postmortems_open_missed(now=at(3)) == 1
    assert incident.timeline.filter(kind=TimelineEntry.Kind.POSTMORTEM).exists()


def test_deadline_counts_from_resolution_not_from_opening(world):
    incident = declare(world, severity=world.sev1)
    resolve(incident, world.manager, T0 + timedelta(minutes=30))
    postmortems_open_missed(now=at(20))  # the signal was lost; the beat was late
    assert Postmortem.objects.get().due_at == T0 + timedelta(minutes=30) + 24 * h
