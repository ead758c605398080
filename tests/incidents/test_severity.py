"""Severity changes: a reason, a timeline entry, the checklist of a raised level, and an
event after commit."""

import pytest
from django.forms.models import model_to_dict

from incidents import services
from incidents.models import Incident, TimelineEntry
from ircore.errors import ConflictError, RuleError

from .conftest import CHECKLISTS, at


def texts(incident):
    return list(incident.checklist.values_list("text", flat=True))


def test_raising_adds_only_the_missing_checklist_items(declare, severities, people):
    incident = declare(severity=severities.sev3)
    assert texts(incident) == CHECKLISTS["SEV-3"]
    first = incident.checklist.get(text="Open the incident channel")
    services.checklist_tick(item=first, user=people.responder, now=at(2))

    services.incident_change_severity(
        incident=incident,
        severity=severities.sev1,
        reason="Card payments down in every region",
        user=people.manager,
        now=at(5),
    )

    incident.refresh_from_db()
    assert incident.severity == severities.sev1
    # The shared text is not repeated, and the ticked item keeps its tick.
    assert texts(incident) == [
        "Open the incident channel",
        "Create a ticket",
        "Page the incident commander",
        "Assign an executive sponsor",
        "Post a status page update",
    ]
    assert incident.checklist.get(text="Open the incident channel").done_by == people.responder
    assert dict(incident.checklist.values_list("text", "severity_key")) == {
        "Open the incident channel": "SEV-3",
        "Create a ticket": "SEV-3",
        "Page the incident commander": "SEV-1",
        "Assign an executive sponsor": "SEV-1",
        "Post a status page update": "SEV-1",
    }
    entry = incident.timeline.last()
    assert entry.kind == TimelineEntry.Kind.SEVERITY
    assert entry.author == people.manager
    assert entry.occurred_at == at(5)
    assert "raised severity SEV-3 → SEV-1: Card payments down in every region" in entry.text
    assert "3 checklist items added" in entry.text
    assert entry.data["checklist_added"] == [
        "Page the incident commander",
        "Assign an executive sponsor",
        "Post a status page update",
    ]

    # Raising again through a level whose items are all there adds nothing new.
    services.incident_change_severity(
        incident=incident, severity=severities.sev2, reason="Contained", user=None, now=at(6)
    )
    services.incident_change_severity(
        incident=incident, severity=severities.sev1, reason="Spread again", user=None, now=at(7)
    )
    assert len(texts(incident)) == 5


def test_lowering_adds_no_checklist_items(declare, severities, people):
    incident = declare(severity=severities.sev1)
    services.incident_change_severity(
        incident=incident,
        severity=severities.sev3,
        reason="Only one merchant affected",
        user=people.manager,
        now=at(5),
    )
    assert incident.severity == severities.sev3
    assert "Create a ticket" not in texts(incident)
    assert texts(incident) == CHECKLISTS["SEV-1"]
    entry = incident.timeline.last()
    assert "lowered severity SEV-1 → SEV-3" in entry.text
    assert entry.data["checklist_added"] == []


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(declare, severities, people, reason):
    incident = declare()
    before = model_to_dict(Incident.objects.get(pk=incident.pk)), incident.timeline.count()
    with pytest.raises(RuleError) as refused:
        services.incident_change_severity(
            incident=incident, severity=severities.sev1, reason=reason, user=people.manager
        )
    assert refused.value.field == "reason"
    assert (model_to_dict(Incident.objects.get(pk=incident.pk)), incident.timeline.count()) == (
        before
    )
    assert incident.checklist.count() == 3


def test_the_same_severity_is_a_conflict(declare, severities, people):
    incident = declare(severity=severities.sev2)
    with pytest.raises(ConflictError) as refused:
        services.incident_change_severity(
            incident=incident, severity=severities.sev2, reason="again", user=people.manager
        )
    assert refused.value.field == "severity"
    assert incident.timeline.count() == 1


def test_a_closed_incident_keeps_its_severity(declare, severities, people):
    incident = declare()
    services.incident_set_status(incident=incident, status="resolved", user=None, now=at(1))
    services.incident_set_status(incident=incident, status="closed", user=None, now=at(2))
    with pytest.raises(ConflictError) as refused:
        services.incident_change_severity(
            incident=incident, severity=severities.sev1, reason="late", user=people.manager
        )
    assert refused.value.field == "status"
    assert Incident.objects.get(pk=incident.pk).severity == severities.sev2


def test_severity_change_is_announced_after_commit(
    declare, severities, people, signal_log, django_capture_on_commit_callbacks
):
    incident = declare()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_change_severity(
            incident=incident,
            severity=severities.sev1,
            reason="Spreading",
            user=people.manager,
            now=at(5),
        )
        assert signal_log == []
    ((name, kwargs),) = signal_log
    assert name == "incident_severity_changed"
    assert kwargs["incident"].pk == incident.pk
    assert kwargs["incident"].severity == severities.sev1
    assert kwargs["user"] == people.manager
    assert kwargs["old_severity"] == severities.sev2
    assert kwargs["new_severity"] == severities.sev1
    assert kwargs["reason"] == "Spreading"


def test_a_refused_severity_change_announces_nothing(
    declare, severities, people, signal_log, django_capture_on_commit_callbacks
):
    incident = declare()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ConflictError),
    ):
        services.incident_change_severity(
            incident=incident, severity=severities.sev2, reason="x", user=people.manager
        )
    assert callbacks == []
    assert signal_log == []
