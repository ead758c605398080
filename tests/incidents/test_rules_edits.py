"""A first acknowledgement or mitigation time given by editing is that lifecycle moment
recorded after the fact; changing a time already set is a correction."""

import pytest

from incidents import services
from incidents.models import TimelineEntry
from ircore.errors import ConflictError

from .conftest import at

Kind = TimelineEntry.Kind


def edit(incident, user, minute, **data):
    return services.incident_update(incident=incident, user=user, data=data, now=at(minute))


def test_an_acknowledgement_given_by_editing_is_a_real_one(
    declare, people, signal_log, django_capture_on_commit_callbacks
):
    incident = declare()
    with django_capture_on_commit_callbacks(execute=True):
        edit(incident, people.manager, 30, acknowledged_at=at(4))

    incident.refresh_from_db()
    assert incident.acknowledged_at == at(4)
    ack = incident.timeline.get(kind=Kind.ACKNOWLEDGEMENT)
    assert ack.occurred_at == at(4)  # where it happened, not when it was typed in
    assert ack.author == people.manager
    assert ack.text == "Mia acknowledged the incident (recorded 2025-03-14 09:30:00 UTC)"
    # Not also a plain field change.
    assert not incident.timeline.filter(kind=Kind.FIELD).exists()
    assert signal_log == [("incident_acknowledged", {"incident": incident, "user": people.manager})]

    with pytest.raises(ConflictError) as again:
        services.incident_acknowledge(incident=incident, user=people.responder, now=at(31))
    assert again.value.field == "acknowledged_at"
    assert "already acknowledged" in again.value.message


def test_correcting_an_acknowledgement_time_stays_a_correction(
    declare, people, signal_log, django_capture_on_commit_callbacks
):
    incident = declare()
    services.incident_acknowledge(incident=incident, user=people.responder, now=at(6))
    signal_log.clear()
    with django_capture_on_commit_callbacks(execute=True):
        edit(incident, people.manager, 30, acknowledged_at=at(4))

    assert incident.timeline.filter(kind=Kind.ACKNOWLEDGEMENT).count() == 1
    field = incident.timeline.get(kind=Kind.FIELD)
    assert field.text == (
        "Mia changed acknowledged at: 2025-03-14 09:06:00 UTC → 2025-03-14 09:04:00 UTC"
    )
    assert field.occurred_at == at(30)
    assert signal_log == []


def test_a_mitigation_time_given_by_editing_lands_at_its_moment(
    declare, people, signal_log, django_capture_on_commit_callbacks
):
    incident = declare()
    services.incident_set_status(
        incident=incident, status="investigating", user=people.manager, now=at(2)
    )
    signal_log.clear()
    with django_capture_on_commit_callbacks(execute=True):
        edit(incident, people.manager, 40, mitigated_at=at(25), title="Card errors")

    incident.refresh_from_db()
    assert incident.mitigated_at == at(25)
    entries = list(incident.timeline.filter(kind=Kind.FIELD).values_list("occurred_at", "text"))
    assert entries == [
        (at(25), "Mia recorded the mitigation (recorded 2025-03-14 09:40:00 UTC)"),
        (at(40), "Mia changed title: Payments failing → Card errors"),
    ]
    # incident_set_status sends no event for the mitigation moment, so neither does this.
    assert signal_log == []

    edit(incident, people.manager, 41, mitigated_at=at(20))
    last = incident.timeline.last()
    assert last.text.startswith("Mia changed mitigated at:")
    assert incident.timeline.filter(text__contains="recorded the mitigation").count() == 1


def test_both_moments_in_one_edit(declare, people, signal_log, django_capture_on_commit_callbacks):
    incident = declare()
    with django_capture_on_commit_callbacks(execute=True):
        edit(incident, people.manager, 50, acknowledged_at=at(3), mitigated_at=at(20))
    kinds = list(incident.timeline.values_list("kind", "occurred_at"))
    assert kinds == [(Kind.DECLARED, at(0)), (Kind.ACKNOWLEDGEMENT, at(3)), (Kind.FIELD, at(20))]
    assert [name for name, _ in signal_log] == ["incident_acknowledged"]
