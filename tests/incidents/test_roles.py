"""Roles: incident commander certification and its override, hand-overs that keep history,
several SMEs, and the database constraint behind "one current IC"."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from incidents import services
from incidents.models import RoleAssignment, TimelineEntry
from ircore.errors import ConflictError, RuleError
from ircore.models import Profile

from .conftest import at

Role = RoleAssignment.Role
IC = Role.INCIDENT_COMMANDER


def assign(incident, person, *, by, role=IC, minute=5, reason=""):
    return services.role_assign(
        incident=incident, role=role, user=person, by=by, override_reason=reason, now=at(minute)
    )


def test_certified_person_becomes_ic(declare, people):
    incident = declare()
    assignment = assign(incident, people.certified, by=people.responder)
    assert assignment.is_current
    assert (assignment.user, assignment.assigned_by) == (people.certified, people.responder)
    assert assignment.assigned_at == at(5)
    assert assignment.override_reason == ""
    entry = incident.timeline.last()
    assert entry.kind == TimelineEntry.Kind.ROLE
    assert entry.text == "Cora is now Incident Commander (assigned by Rob)"
    assert entry.data["override_reason"] == ""


def test_certification_without_expiry_counts(declare, people):
    incident = declare()
    assert assign(incident, people.certified_too, by=people.responder).is_current


@pytest.mark.parametrize("who", ["uncertified", "expired"])
def test_uncertified_or_expired_person_is_refused(declare, people, who):
    incident = declare()
    with pytest.raises(RuleError) as refused:
        assign(incident, getattr(people, who), by=people.manager)
    assert refused.value.field == "user"
    assert "certification" in refused.value.message
    assert not incident.roles.exists()
    assert incident.timeline.count() == 1


def test_certification_is_valid_on_its_expiry_day(declare, people):
    # The expired fixture's certification ended the day before T0; move it to T0's date.
    Profile.objects.filter(user=people.expired).update(ic_certification_expires=date(2025, 3, 14))
    assert assign(declare(), people.expired, by=people.manager).is_current


def test_incident_manager_may_override_with_a_reason(declare, people):
    incident = declare()
    assert people.manager.has_perm("incidents.override_ic_certification")
    assignment = assign(
        incident, people.uncertified, by=people.manager, reason="Only person awake who knows it"
    )
    assignment.refresh_from_db()
    assert assignment.is_current
    assert assignment.override_reason == "Only person awake who knows it"
    entry = incident.timeline.last()
    assert entry.author == people.manager
    assert "certification overridden: Only person awake who knows it" in entry.text
    assert entry.data["override_reason"] == "Only person awake who knows it"


def test_responder_cannot_override(declare, people):
    incident = declare()
    assert not people.responder.has_perm("incidents.override_ic_certification")
    with pytest.raises(RuleError) as refused:
        assign(incident, people.uncertified, by=people.responder, reason="Trust me")
    assert refused.value.field == "override_reason"
    assert not incident.roles.exists()


def test_override_without_a_user_is_refused(declare, people):
    with pytest.raises(RuleError) as refused:
        assign(declare(), people.uncertified, by=None, reason="System pick")
    assert refused.value.field == "override_reason"


def test_a_certified_ic_is_not_recorded_as_an_override(declare, people):
    incident = declare()
    assignment = assign(incident, people.certified, by=people.manager, reason="Habit")
    assert assignment.override_reason == ""
    assert "overridden" not in incident.timeline.last().text


def test_other_roles_need_no_certification(declare, people):
    incident = declare()
    lead = assign(incident, people.uncertified, by=people.responder, role=Role.TECH_LEAD)
    assert lead.is_current
    assert lead.override_reason == ""


def test_hand_over_keeps_the_history_of_holders(declare, people):
    incident = declare()
    first = assign(incident, people.certified, by=people.manager, minute=5)
    second = assign(incident, people.certified_too, by=people.certified, minute=40)

    first.refresh_from_db()
    assert first.relieved_at == at(40)
    assert second.is_current
    assert second.assigned_at == at(40)
    current = incident.roles.filter(role=IC, relieved_at__isnull=True)
    assert list(current.values_list("user__username", flat=True)) == ["carl"]
    assert list(incident.roles.filter(role=IC).values_list("user__username", flat=True)) == [
        "carl",
        "cora",
    ]
    entry = incident.timeline.last()
    assert entry.text == "Carl took over as Incident Commander from Cora (assigned by Cora)"
    assert entry.data["previous"] == "cora"


def test_the_database_allows_only_one_current_ic(declare, people):
    incident = declare()
    assign(incident, people.certified, by=people.manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(incident=incident, role=IC, user=people.certified_too)
    # A relieved row beside the current one is fine: that is what a hand-over leaves.
    RoleAssignment.objects.create(
        incident=incident, role=IC, user=people.certified_too, relieved_at=at(1)
    )


def test_several_smes_may_serve_at_once(declare, people):
    incident = declare()
    for minute, person in enumerate([people.responder, people.uncertified, people.certified]):
        assign(incident, person, by=people.manager, role=Role.SME, minute=minute + 1)
    assert incident.roles.filter(role=Role.SME, relieved_at__isnull=True).count() == 3

    with pytest.raises(ConflictError) as again:
        assign(incident, people.responder, by=people.manager, role=Role.SME, minute=9)
    assert again.value.field == "user"
    assert incident.roles.filter(role=Role.SME).count() == 3


def test_the_same_person_twice_in_a_single_role_is_a_conflict(declare, people):
    incident = declare()
    assign(incident, people.certified, by=people.manager)
    with pytest.raises(ConflictError):
        assign(incident, people.certified, by=people.manager, minute=6)
    assert incident.roles.count() == 1


def test_relieving_ends_a_hold_once(declare, people):
    incident = declare()
    sme = assign(incident, people.responder, by=people.manager, role=Role.SME)
    services.role_relieve(assignment=sme, by=people.manager, now=at(30))
    sme.refresh_from_db()
    assert sme.relieved_at == at(30)
    assert incident.timeline.last().text == "Rob stepped down as Subject Matter Expert"
    with pytest.raises(ConflictError):
        services.role_relieve(assignment=sme, by=people.manager, now=at(31))


@pytest.mark.parametrize(
    ("role", "field"),
    [("captain", "role"), (IC, "user")],
)
def test_bad_role_or_person_is_refused(declare, people, role, field):
    incident = declare()
    people.certified.is_active = False
    people.certified.save()
    with pytest.raises(RuleError) as refused:
        assign(incident, people.certified, by=people.manager, role=role)
    assert refused.value.field == field


def test_no_roles_on_a_closed_incident(declare, people):
    incident = declare()
    services.incident_set_status(incident=incident, status="resolved", user=None, now=at(1))
    services.incident_set_status(incident=incident, status="closed", user=None, now=at(2))
    with pytest.raises(ConflictError):
        assign(incident, people.certified, by=people.manager, minute=3)
