"""Lifecycle times keep their order (metrics are built on them), and corrections that would
break it are refused with the field named and nothing saved."""

from datetime import datetime, timedelta

import pytest
from django.forms.models import model_to_dict

from incidents import services
from incidents.models import Incident, TimelineEntry
from ircore.errors import RuleError

from .conftest import T0, at

Status = Incident.Status


def snapshot(incident):
    return (
        model_to_dict(Incident.objects.get(pk=incident.pk)),
        incident.timeline.count(),
        incident.history.count(),
    )


def test_declaration_with_impact_after_detection_is_refused(declare):
    with pytest.raises(RuleError) as refused:
        declare(impact_started_at=at(-5), detected_at=at(-10))
    assert refused.value.field == "impact_started_at"
    assert "negative" in refused.value.message
    assert not Incident.objects.exists()


def test_declaration_detected_in_the_future_is_refused(declare):
    with pytest.raises(RuleError) as refused:
        declare(detected_at=at(5))
    assert refused.value.field == "detected_at"
    assert not Incident.objects.exists()


def test_declaration_keeps_given_impact_and_detection_times(declare):
    incident = declare(impact_started_at=at(-30), detected_at=at(-12))
    assert (incident.impact_started_at, incident.detected_at, incident.declared_at) == (
        at(-30),
        at(-12),
        T0,
    )


@pytest.fixture
def worked(declare, people):
    """Declared at T0, acknowledged at +5, mitigated at +20, resolved at +40."""
    incident = declare(impact_started_at=at(-20), detected_at=at(-10))
    services.incident_acknowledge(incident=incident, user=people.responder, now=at(5))
    services.incident_set_status(
        incident=incident, status=Status.MONITORING, user=people.responder, now=at(20)
    )
    services.incident_set_status(
        incident=incident, status=Status.RESOLVED, user=people.responder, now=at(40)
    )
    return incident


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("impact_started_at", at(-5)),  # after detection (-10)
        ("detected_at", at(1)),  # after declaration
        ("declared_at", at(-25)),  # before impact started
        ("acknowledged_at", at(-1)),  # before declaration
        ("mitigated_at", at(2)),  # before acknowledgement
        ("resolved_at", at(10)),  # before mitigation
    ],
)
def test_correction_that_makes_a_duration_negative_is_refused(worked, people, field, value):
    before = snapshot(worked)
    with pytest.raises(RuleError) as refused:
        services.incident_update(
            incident=worked, user=people.manager, data={field: value}, now=at(60)
        )
    assert refused.value.field == field
    assert "cannot be" in refused.value.message
    assert snapshot(worked) == before
    worked.refresh_from_db()
    assert getattr(worked, field) != value


@pytest.mark.parametrize("field", ["detected_at", "acknowledged_at", "resolved_at"])
def test_times_in_the_future_are_refused(worked, people, field):
    before = snapshot(worked)
    with pytest.raises(RuleError) as refused:
        services.incident_update(
            incident=worked, user=people.manager, data={field: at(61)}, now=at(60)
        )
    assert refused.value.field == field
    assert "future" in refused.value.message
    assert snapshot(worked) == before


@pytest.mark.parametrize(
    "value",
    [datetime(2025, 3, 14, 8, 55), "2025-03-14T08:55:00Z", 1741942500],  # noqa: DTZ001
    ids=["naive", "string", "number"],
)
def test_a_time_must_be_an_aware_datetime(worked, people, value):
    before = snapshot(worked)
    with pytest.raises(RuleError) as refused:
        services.incident_update(
            incident=worked, user=people.manager, data={"detected_at": value}, now=at(60)
        )
    assert refused.value.field == "detected_at"
    assert snapshot(worked) == before


def test_valid_correction_is_saved_and_on_the_timeline(worked, people):
    services.incident_update(
        incident=worked,
        user=people.manager,
        data={"detected_at": at(-15), "acknowledged_at": at(4)},
        now=at(60),
    )
    worked.refresh_from_db()
    assert (worked.detected_at, worked.acknowledged_at) == (at(-15), at(4))
    entry = worked.timeline.last()
    assert entry.kind == TimelineEntry.Kind.FIELD
    assert entry.author == people.manager
    assert entry.occurred_at == at(60)
    assert entry.data["detected_at"] == ["2025-03-14 08:50:00 UTC", "2025-03-14 08:45:00 UTC"]
    assert "acknowledged at" in entry.text


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"resolved_at": None}, "resolved_at"),  # a resolved incident keeps its resolution
        ({"closed_at": at(50)}, "closed_at"),  # closing is a status move
        ({"declared_at": None}, "declared_at"),
        ({"status": Status.CLOSED}, "status"),
        ({"severity": 1}, "severity"),
        ({"reference": "INC-1"}, "reference"),
        ({"regulatory_due_at": at(10)}, "regulatory_due_at"),
    ],
)
def test_update_refuses_what_has_its_own_verb(worked, people, data, field):
    before = snapshot(worked)
    with pytest.raises(RuleError) as refused:
        services.incident_update(incident=worked, user=people.manager, data=data, now=at(60))
    assert refused.value.field == field
    assert snapshot(worked) == before


def test_resolution_time_cannot_be_set_on_an_open_incident(declare, people):
    incident = declare()
    with pytest.raises(RuleError) as refused:
        services.incident_update(
            incident=incident, user=people.manager, data={"resolved_at": at(3)}, now=at(5)
        )
    assert refused.value.field == "resolved_at"


def test_update_without_change_writes_nothing(worked, people):
    before = snapshot(worked)
    services.incident_update(
        incident=worked, user=people.manager, data={"title": worked.title}, now=at(60)
    )
    assert snapshot(worked) == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"channel_name": "#" + "x" * 80}, "channel_name"),
        ({"incident_type": 3}, "incident_type"),
        ({"is_drill": "yes"}, "is_drill"),
    ],
)
def test_bad_details_are_refused_with_the_field(worked, people, data, field):
    before = snapshot(worked)
    with pytest.raises(RuleError) as refused:
        services.incident_update(incident=worked, user=people.manager, data=data, now=at(60))
    assert refused.value.field == field
    assert snapshot(worked) == before


def test_check_chronology_accepts_gaps_and_equal_times():
    services.check_chronology(
        {"detected_at": T0, "declared_at": T0, "resolved_at": T0 + timedelta(hours=1)}
    )


def test_stamped_times_cannot_be_removed_while_their_state_holds(declare, people):
    incident = declare()
    services.incident_set_status(
        incident=incident, status="monitoring", user=people.manager, now=at(5)
    )
    for field in ("acknowledged_at", "mitigated_at"):
        with pytest.raises(RuleError) as refused:
            services.incident_update(
                incident=incident, user=people.manager, data={field: None}, now=at(6)
            )
        assert refused.value.field == field
    incident.refresh_from_db()
    assert incident.acknowledged_at == at(5) and incident.mitigated_at == at(5)
    # Corrected, yes.
    services.incident_update(
        incident=incident, user=people.manager, data={"acknowledged_at": at(2)}, now=at(6)
    )
    incident.refresh_from_db()
    assert incident.acknowledged_at == at(2)
