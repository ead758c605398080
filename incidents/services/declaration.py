"""Declaring an incident: reference, channel, checklist, services, first entry."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from ircore.errors import RuleError
from ircore.models import IncidentType, Service, Severity

from .. import signals
from ..models import (
    ChecklistItem,
    Incident,
    IncidentService,
    ReferenceCounter,
    TimelineEntry,
)
from ._base import _aware, _for_history, _name, _now, _person, _text, check_chronology
from .maintenance_notes import windows_for_incident
from .timeline import timeline_add


def _next_reference(day) -> str:
    """INC-YYYY-MM-DD-NNN from a per-day counter held under a row lock."""
    try:
        with transaction.atomic():
            counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(day=day)
    except IntegrityError:  # another declaration created today's row first
        counter = ReferenceCounter.objects.select_for_update().get(day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"INC-{day:%Y-%m-%d}-{counter.last:03d}"


def channel_name_for(declared_at: datetime, title: str) -> str:
    """#incident-YYYY-MM-DD-slug, within chat tools' 80-character channel limit. The day is
    the UTC day, the same as the reference's, so the two names of an incident agree. The slug
    keeps to the convention ``check_channel_name`` enforces (slugify would keep underscores)."""
    prefix = f"#incident-{declared_at.astimezone(UTC):%Y-%m-%d}-"
    slug = slugify(title).replace("_", "-")[: 80 - len(prefix)].strip("-") or "incident"
    return prefix + slug


def _regulatory_due(
    incident_type: IncidentType | None, detected_at: datetime | None, declared_at: datetime
):
    """Detection + N hours; without a detection time, the declaration (which is never before
    detection) starts the clock, so a cleared detection time cannot restart it from today."""
    if incident_type is None or incident_type.regulatory_notification_hours is None:
        return None
    return (detected_at or declared_at) + timedelta(
        hours=incident_type.regulatory_notification_hours
    )


def _add_checklist(incident: Incident, severity: Severity, user: Any) -> list[ChecklistItem]:
    """Copy the severity's checklist items the incident does not have yet (with history rows
    naming ``user``: a plain bulk_create would leave them out of the audit trail)."""
    have = set(incident.checklist.values_list("text", flat=True))
    start = len(have)
    added = []
    for offset, template in enumerate(severity.checklist.order_by("position", "id")):
        if template.text in have:
            continue
        item = ChecklistItem(
            incident=incident,
            template_item=template,
            severity_key=severity.key,
            position=start + offset,
            text=template.text,
        )
        added.append(item)
    return bulk_create_with_history(added, ChecklistItem, default_user=_person(user))


def incident_declare(
    *,
    title: str,
    severity: Severity,
    services: Iterable[Service] = (),
    summary: str = "",
    incident_type: IncidentType | None = None,
    is_drill: bool = False,
    detected_at: datetime | None = None,
    impact_started_at: datetime | None = None,
    user: Any = None,
    now: datetime | None = None,
) -> Incident:
    """Declare an incident: reference, chat channel, checklist of its severity, affected
    services (at least one: what is broken is the first thing responders and the status page
    need), a first timeline entry, and the ``incident_declared`` event after commit."""
    now = _now(now)
    title = _text("title", title, required=True)
    summary = _text("summary", summary)
    if severity is None:
        raise RuleError("Choose a severity.", field="severity")
    services = list(dict.fromkeys(services or ()))
    if not services:
        raise RuleError("Name at least one affected service.", field="services")
    given = {
        "impact_started_at": _aware("impact_started_at", impact_started_at),
        "detected_at": _aware("detected_at", detected_at),
    }
    detected_at = detected_at or now
    check_chronology(
        {"impact_started_at": impact_started_at, "detected_at": detected_at, "declared_at": now},
        blame=[field for field, value in given.items() if value is not None],
    )
    with transaction.atomic():
        incident = Incident(
            reference=_next_reference(now.astimezone(UTC).date()),
            title=title,
            summary=summary,
            severity=severity,
            incident_type=incident_type,
            is_drill=is_drill,
            channel_name=channel_name_for(now, title),
            impact_started_at=impact_started_at,
            detected_at=detected_at,
            declared_at=now,
            regulatory_due_at=_regulatory_due(incident_type, detected_at, now),
            created_by=user if getattr(user, "pk", None) else None,
        )
        _for_history(incident, user, "declared")
        incident.save()
        bulk_create_with_history(
            [IncidentService(incident=incident, service=service) for service in services],
            IncidentService,
            default_user=_person(user),
        )
        items = _add_checklist(incident, severity, user)
        drill = " (drill)" if is_drill else ""
        timeline_add(
            incident=incident,
            kind=TimelineEntry.Kind.DECLARED,
            text=f"{_name(user)} declared {severity.key} {incident.reference}{drill}: {title}",
            author=user,
            occurred_at=now,
            data={
                "severity": severity.key,
                "services": [s.slug for s in services],
                "checklist_items": len(items),
            },
        )
        windows_for_incident(incident=incident, services=services, now=now)
        signals.send_on_commit(signals.incident_declared, Incident, incident=incident, user=user)
    return incident
