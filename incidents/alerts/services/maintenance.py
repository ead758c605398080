"""Maintenance windows: planned work on a service. Alerts arriving during one are recorded
with ``suppressed_by`` and declare nothing (so page no one).

Which window is active for an alert at its arrival is read with the delivery's other reads
(``lookup``). A window is on the timeline of every incident of its service that overlaps it
(the rule and the entry: ``incidents.services.maintenance_notes``), written when the window
is created (here) and when an incident is declared or given the service (the incident
services). Each window appears once per incident. A window ended early
(``maintenance_window_end``) says so on each of those timelines.
"""

from datetime import datetime
from typing import Any

from django.db import transaction

from ircore.errors import RuleError
from ircore.models import Service

from ...models import Incident, TimelineEntry
from ...services import timeline_add
from ...services._base import _aware, _for_history, _limited, _name, _now
from ...services.maintenance_notes import incidents_overlapping, utc_minute, window_note
from ..models import MaintenanceWindow


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
        for incident in incidents_overlapping(window):
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
            raise RuleError(f"This window ended at {utc_minute(locked.end)} already.", field="end")
        if locked.start >= now:
            raise RuleError(
                f"This window starts at {utc_minute(locked.start)}: it cannot end before it "
                "starts.",
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
                text=f"Maintenance window on {locked.service} ended early at {utc_minute(now)}"
                f" by {who} ({locked.reason})",
                author=user if getattr(user, "pk", None) else None,
                occurred_at=now,
                data={"maintenance": locked.pk, "action": "ended", "end": now.isoformat()},
            )
    window.end = locked.end
    return window
