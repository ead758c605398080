"""Security and privacy incidents: the regulator's deadline and the checkpoints."""

from datetime import timedelta

import pytest

from incidents import services
from incidents.models import TimelineEntry
from ircore.errors import ConflictError, RuleError

from .conftest import T0, at


def test_regulatory_deadline_is_detection_plus_72_hours(declare, security_type):
    incident = declare(incident_type=security_type, detected_at=at(-90))
    assert incident.regulatory_due_at == at(-90) + timedelta(hours=72)
    assert declare("Outage").regulatory_due_at is None


def test_deadline_follows_detection_and_type_corrections(
    declare, security_type, outage_type, people
):
    incident = declare(incident_type=security_type, detected_at=at(-90))

    services.incident_update(
        incident=incident, user=people.manager, data={"detected_at": at(-300)}, now=at(10)
    )
    assert incident.regulatory_due_at == at(-300) + timedelta(hours=72)

    services.incident_update(
        incident=incident, user=people.manager, data={"incident_type": outage_type}, now=at(11)
    )
    assert incident.regulatory_due_at is None

    services.incident_update(
        incident=incident, user=people.manager, data={"incident_type": security_type}, now=at(12)
    )
    assert incident.regulatory_due_at == at(-300) + timedelta(hours=72)


def test_deadline_without_detection_time_counts_from_declaration(declare, security_type, people):
    # Clearing the detection time must not restart the regulator's clock from today.
    incident = declare(incident_type=security_type)
    services.incident_update(
        incident=incident, user=people.manager, data={"detected_at": None}, now=at(600)
    )
    assert incident.regulatory_due_at == T0 + timedelta(hours=72)


@pytest.mark.parametrize(
    ("checkpoint", "field"),
    [
        ("evidence_preserved", "evidence_preserved_at"),
        ("credentials_rotated", "credentials_rotated_at"),
        ("regulator_notified", "regulator_notified_at"),
    ],
)
def test_checkpoints_are_stamped_once(declare, security_type, people, checkpoint, field):
    incident = declare(incident_type=security_type)
    services.security_checkpoint_mark(
        incident=incident, checkpoint=checkpoint, user=people.certified, now=at(30)
    )
    assert getattr(incident, field) == at(30)
    entry = incident.timeline.last()
    assert entry.kind == TimelineEntry.Kind.SECURITY
    assert entry.data == {"checkpoint": checkpoint}
    assert entry.text == f"Cora recorded: {checkpoint.replace('_', ' ')}"

    with pytest.raises(ConflictError) as again:
        services.security_checkpoint_mark(
            incident=incident, checkpoint=checkpoint, user=people.manager, now=at(40)
        )
    assert again.value.field == "checkpoint"
    incident.refresh_from_db()
    assert getattr(incident, field) == at(30)
    assert incident.timeline.filter(kind=TimelineEntry.Kind.SECURITY).count() == 1


def test_late_regulator_notification_says_how_late(declare, security_type, people):
    incident = declare(incident_type=security_type, detected_at=at(-60))
    services.security_checkpoint_mark(
        incident=incident,
        checkpoint="regulator_notified",
        user=people.manager,
        now=at(-60) + timedelta(hours=73, minutes=5),
    )
    assert incident.timeline.last().text.endswith("(1h 05m after the deadline)")


def test_non_security_incident_refuses_checkpoints(declare, outage_type, people):
    for incident in (declare(), declare("Typed", incident_type=outage_type)):
        with pytest.raises(RuleError) as refused:
            services.security_checkpoint_mark(
                incident=incident, checkpoint="evidence_preserved", user=people.manager
            )
        assert refused.value.field == "checkpoint"
        incident.refresh_from_db()
        assert incident.evidence_preserved_at is None


def test_unknown_checkpoint_is_refused(declare, security_type, people):
    with pytest.raises(RuleError) as refused:
        services.security_checkpoint_mark(
            incident=declare(incident_type=security_type),
            checkpoint="lawyers_called",
            user=people.manager,
        )
    assert refused.value.field == "checkpoint"
    assert "evidence_preserved" in refused.value.message


def test_admin_and_api_agree_on_the_clock_after_the_type_loses_its_hours(
    declare, security_type, people, client, admin_client
):
    """A policy import that clears the type's hours leaves the running deadline in force,
    in the admin and the API alike (they disagreed: the admin hid it, the API kept it)."""
    incident = declare(incident_type=security_type, detected_at=at(-90))
    security_type.regulatory_notification_hours = None
    security_type.save()
    incident.refresh_from_db()
    assert incident.regulatory_clock_applies
    page = admin_client.get(f"/admin/incidents/incident/{incident.pk}/change/").content.decode()
    assert "Regulator notification" in page
    client.force_login(people.manager)
    body = client.get(f"/api/v1/incidents/{incident.reference}/").json()
    assert body["regulatory"]["required"] is True
    assert body["regulatory"]["due_at"] is not None
