"""Every change a person makes through the services is in simple-history, with who did it."""

from incidents import services
from incidents.models import RoleAssignment

from .conftest import at

IC = RoleAssignment.Role.INCIDENT_COMMANDER


def test_incident_history_names_the_actor_and_the_reason(declare, severities, people):
    incident = declare(user=people.manager)
    services.incident_acknowledge(incident=incident, user=people.responder, now=at(1))
    services.incident_set_status(
        incident=incident, status="investigating", user=people.certified, now=at(2)
    )
    services.incident_change_severity(
        incident=incident,
        severity=severities.sev1,
        reason="Spreading",
        user=people.manager,
        now=at(3),
    )
    services.incident_update(
        incident=incident, user=people.responder, data={"summary": "EU only"}, now=at(4)
    )
    services.incident_set_status(
        incident=incident, status="resolved", user=people.certified_too, now=at(5)
    )
    services.incident_set_status(incident=incident, status="closed", user=people.manager, now=at(6))

    records = list(incident.history.order_by("history_id"))
    assert [(h.history_type, h.history_user, h.history_change_reason) for h in records] == [
        ("+", people.manager, "declared"),
        ("~", people.responder, "acknowledged"),
        ("~", people.certified, "status declared -> investigating"),
        ("~", people.manager, "severity SEV-2 -> SEV-1"),
        ("~", people.responder, "details updated"),
        ("~", people.certified_too, "status investigating -> resolved"),
        ("~", people.manager, "status resolved -> closed"),
    ]
    assert [h.status for h in records][-3:] == ["investigating", "resolved", "closed"]
    assert records[4].summary == "EU only"


def test_role_history_covers_assignment_and_hand_over(declare, people):
    incident = declare()
    first = services.role_assign(
        incident=incident, role=IC, user=people.certified, by=people.manager, now=at(1)
    )
    second = services.role_assign(
        incident=incident, role=IC, user=people.certified_too, by=people.responder, now=at(2)
    )
    services.role_relieve(assignment=second, by=people.certified, now=at(3))

    assert [(h.history_type, h.history_user, h.relieved_at) for h in first.history.all()][::-1] == [
        ("+", people.manager, None),
        ("~", people.responder, at(2)),
    ]
    assert [(h.history_type, h.history_user) for h in second.history.all()][::-1] == [
        ("+", people.responder),
        ("~", people.certified),
    ]


def test_checklist_history_covers_creation_and_ticks(declare, people):
    incident = declare(user=people.manager)
    item = incident.checklist.first()
    services.checklist_tick(item=item, user=people.responder, now=at(1))
    services.checklist_tick(item=item, user=people.certified, done=False, now=at(2))

    assert [
        (h.history_type, h.history_user, h.done_by_id) for h in item.history.order_by("history_id")
    ] == [
        ("+", people.manager, None),
        ("~", people.responder, people.responder.pk),
        ("~", people.certified, None),
    ]
    # Every item the declaration copied is in history, not only the ticked one.
    assert all(i.history.filter(history_type="+").exists() for i in incident.checklist.all())


def test_checklist_items_added_by_a_raise_are_in_history(declare, severities, people):
    incident = declare(severity=severities.sev3)
    services.incident_change_severity(
        incident=incident,
        severity=severities.sev1,
        reason="Worse",
        user=people.certified,
        now=at(1),
    )
    added = incident.checklist.get(text="Assign an executive sponsor")
    assert [(h.history_type, h.history_user) for h in added.history.all()] == [
        ("+", people.certified)
    ]


def test_affected_services_are_in_history(declare, catalog, people):
    incident = declare(services=[catalog.payments_api], user=people.manager)
    row = incident.affected.get()
    services.affected_service_set(
        incident=incident,
        service=catalog.payments_api,
        status="major_outage",
        user=people.responder,
        now=at(1),
    )
    assert [(h.history_type, h.history_user, h.status) for h in row.history.all()][::-1] == [
        ("+", people.manager, "degraded"),
        ("~", people.responder, "major_outage"),
    ]
