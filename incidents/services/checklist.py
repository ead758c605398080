"""The per-severity checklist."""

from datetime import datetime
from typing import Any

from django.db import transaction

from ircore.errors import ConflictError

from .. import permissions
from ..models import (
    ChecklistItem,
    TimelineEntry,
)
from ._base import _accepts, _for_history, _locked, _name, _now
from .timeline import timeline_add


def checklist_tick(
    *, item: ChecklistItem, user: Any, done: bool = True, now: datetime | None = None
) -> ChecklistItem:
    """Tick (or untick) a checklist item, recording who and when."""
    with transaction.atomic():
        locked_incident = _locked(item.incident)
        now = _now(now)
        _accepts(locked_incident, permissions.TICK)
        row = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        if row.done == done:
            state = "already done" if done else "not done"
            raise ConflictError(f"'{row.text}' is {state}.", field="done")
        row.done_at = now if done else None
        row.done_by = user if done else None
        _for_history(row, user)
        row.save(update_fields=["done_at", "done_by"])
        verb = "ticked" if done else "unticked"
        timeline_add(
            incident=locked_incident,
            kind=TimelineEntry.Kind.CHECKLIST,
            text=f"{_name(user)} {verb} “{row.text}”",
            author=user,
            occurred_at=now,
            data={"item": row.pk, "done": done},
        )
    item.done_at, item.done_by = row.done_at, row.done_by
    return row
