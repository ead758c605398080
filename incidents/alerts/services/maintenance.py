"""Maintenance windows: planned work on a service. Alerts arriving during one are recorded
with ``suppressed_by`` and declare nothing (so page no one).

Which window is active for an alert at its arrival is read with the delivery's other reads
(``lookup``). A window is on the timeline of every incident of its service that overlaps it,
written:
- when the window is created (``maintenance_window_create``), for the incidents of the service
  that are open or were resolved after the window started, and began before it ends;
- when an incident is declared (by a person or an alert) or a service is added to it, for the
  windows of those services that overlap the time from the impact's start until now (one
  active at an alert's arrival would have suppressed the alert). The incident services call
  ``windows_for_incident``.
Each window appears once per incident. A window ended early (``maintenance_window_end``)
says so on each of those timelines.
"""

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce

from ircore.errors import RuleError
from ircore.models import Service

from ...models import Incident, TimelineEntry
from ...services import timeline_add
from ...services._base import _aware, _for_history, _limited, _name, _now
from ..models import MaintenanceWindow


def _shown(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


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
            f"Maintenance window on {window.service}: {_shown(window.start)} to "
            f"{_shown(window.end)} ({window.reason})"
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
    """When ``services`` become the incident's (declared with them, by a person or an alert,
    or added later): their windows overlapping the impact's start .. now go on its timeline."""
    since = incident.impact_started_at or incident.detected_at or now
    windows = MaintenanceWindow.objects.filter(
        service__in=services, start__lte=now, end__gt=since
    ).select_related("service")
    return sum(window_note(incident=incident, window=w, now=now) for w in windows)


def maintenance_window_create(
    *,
    service: Service,
    start: datetime,
    end: datetime,
    reason: str,
    user: Any,
    now: datetime | None = None,
) -> MaintenanceWindow:
    """A window on ``service``; it goes on the timeline of the incidents it overlaps."""
    now = _now(now)
    if service is None:
        raise RuleError("Choose a service.", field="service")
    start = _aware("start", start)
    end = _aware("end", end)
    if start is None:
        raise RuleError("Give the start.", field="start")
    if end is None:
        raise RuleError("Give the end.", field="end")
    if end <= start:
        raise RuleError("The end must be after the start.", field="end")
    reason = _limited("reason", reason, 300, required="Say what the maintenance is.")
    with transaction.atomic():
        window = MaintenanceWindow(
            service=service,
            start=start,
            end=end,
            reason=reason,
            created_by=user if getattr(user, "pk", None) else None,
            created_at=now,
        )
        _for_history(window, user, "created")
        window.save()
        overlapping = (
            Incident.objects.filter(affected__service=service)
            .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=start))
            .annotate(began=Coalesce("impact_started_at", "declared_at"))
            .filter(began__lt=end)
        )
        for incident in overlapping:
            window_note(incident=incident, window=window, now=now)
    return window


def maintenance_window_end(
    *, window: MaintenanceWindow, user: Any, now: datetime | None = None
) -> MaintenanceWindow:
    """End a window that has started early: its end is now, with a history row, and the
    incidents it is on the timeline of say so. The alerts it held, still firing, then do
    what they do after any window: join or declare at their next arrival."""
    now = _now(now)
    with transaction.atomic():
        locked = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        if locked.end <= now:
            raise RuleError(f"This window ended at {_shown(locked.end)} already.", field="end")
        if locked.start >= now:
            raise RuleError(
                f"This window starts at {_shown(locked.start)}: it cannot end before it starts.",
                field="end",
            )
        locked.end = now
        _for_history(locked, user, "ended early")
        locked.save(update_fields=["end"])
        noted = Incident.objects.filter(
            timeline__kind=TimelineEntry.Kind.ALERT, timeline__data__maintenance=locked.pk
        ).distinct()
        who = _name(user)
        for incident in noted:
            timeline_add(
                incident=incident,
                kind=TimelineEntry.Kind.ALERT,
                text=f"Maintenance window on {locked.service} ended early at {_shown(now)}"
                f" by {who} ({locked.reason})",
                author=user if getattr(user, "pk", None) else None,
                occurred_at=now,
                data={"maintenance": locked.pk, "action": "ended", "end": now.isoformat()},
            )
    window.end = locked.end
    return window
