"""Maintenance windows on incident timelines: the one rule of when a window and an incident
overlap, and the entry that says so (once per window and incident).

A window overlaps an incident when it ends after the impact began (impact start, else
detection, else declaration) and, for a resolved incident, starts by its resolution; an
open incident overlaps the windows still ahead on its services too (responders see the
planned work). Two callers: the window services of the alerts area (a window made over
incidents, a window ended early), and these incident services (an incident declared, by a
person or an alert, or given a service).

A window made while, in another transaction, an incident of its service is declared or
given that service is seen by neither (READ COMMITTED): the note is missing then (it is a
record for the reader, nothing acts on it), never doubled (``window_note`` looks first, and
neither side sees the other's note before it commits).
"""

from datetime import UTC, datetime

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from ircore.models import Service

from ..alerts.models import MaintenanceWindow
from ..models import Incident, TimelineEntry
from .timeline import timeline_add


def utc_minute(when: datetime) -> str:
    """A moment as the timelines show it: "2025-03-14 09:05 UTC"."""
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def impact_began(incident: Incident) -> datetime:
    return incident.impact_started_at or incident.detected_at or incident.declared_at


def incidents_overlapping(window: MaintenanceWindow) -> QuerySet[Incident]:
    """The incidents of the window's service that it overlaps (the rule above)."""
    return (
        Incident.objects.filter(affected__service=window.service_id)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=window.start))
        .annotate(began=Coalesce("impact_started_at", "detected_at", "declared_at"))
        .filter(began__lt=window.end)
    )


def window_note(*, incident: Incident, window: MaintenanceWindow, now: datetime) -> bool:
    """Put ``window`` on ``incident``'s timeline unless it is there already."""
    if incident.timeline.filter(
        kind=TimelineEntry.Kind.ALERT, data__maintenance=window.pk
    ).exists():
        return False
    timeline_add(
        incident=incident,
        kind=TimelineEntry.Kind.ALERT,
        text=(
            f"Maintenance window on {window.service}: {utc_minute(window.start)} to "
            f"{utc_minute(window.end)} ({window.reason})"
        ),
        occurred_at=min(max(window.start, incident.declared_at), now),
        data={
            "maintenance": window.pk,
            "service": window.service.slug,
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
        },
    )
    return True


def windows_for_incident(*, incident: Incident, services: list[Service], now: datetime) -> int:
    """When ``services`` become the incident's (declared with them, or added later): their
    windows that overlap it go on its timeline. Returns how many were added."""
    windows = MaintenanceWindow.objects.filter(service__in=services, end__gt=impact_began(incident))
    if incident.resolved_at is not None:
        windows = windows.filter(start__lte=incident.resolved_at)
    windows = windows.select_related("service").order_by("start", "id")
    return sum(window_note(incident=incident, window=w, now=now) for w in windows)
