"""The postmortem's own timeline rows: added, edited, starred, dropped, or copied again
from the incident's timeline (entries added since). Refused once published."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from incidents.models import TimelineEntry
from ircore.errors import RuleError

from .. import permissions as perms
from ..models import Postmortem, PostmortemTimelineEntry
from .postmortem_base import _copy_timeline, aware, for_history, locked, refresh, text_of, writable


def _entry_values(data: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for field, value in data.items():
        if field == "text":
            clean[field] = text_of(
                field, value, TimelineEntry.NOTE_LIMIT, required="Write what happened."
            )
        elif field == "occurred_at":
            clean[field] = aware(field, value)
            if clean[field] is None:
                raise RuleError("Give the time it happened.", field=field)
        elif field == "starred":
            if not isinstance(value, bool):
                raise RuleError("Give true or false.", field=field)
            clean[field] = value
        else:
            raise RuleError(f"'{field}' cannot be set on a timeline entry.", field=field)
    return clean


def timeline_entry_add(
    *, postmortem: Postmortem, user: Any, data: Mapping[str, Any], now: datetime | None = None
) -> PostmortemTimelineEntry:
    clean = _entry_values(data)
    for needed in ("text", "occurred_at"):
        if needed not in clean:
            raise RuleError("Required.", field=needed)
    with transaction.atomic():
        row = locked(postmortem)
        perms.check(perms.may_write(user, row), "write this postmortem")
        writable(row)
        entry = for_history(PostmortemTimelineEntry(postmortem=row, **clean), user, "added")
        entry.save()
    return entry


def timeline_entry_update(
    *, entry: PostmortemTimelineEntry, user: Any, data: Mapping[str, Any]
) -> PostmortemTimelineEntry:
    """Edit a row's text or time, or star it."""
    clean = _entry_values(data)
    with transaction.atomic():
        row = locked(entry.postmortem)
        perms.check(perms.may_write(user, row), "write this postmortem")
        writable(row)
        fresh = PostmortemTimelineEntry.objects.select_for_update().get(pk=entry.pk)
        changed = [f for f, v in clean.items() if getattr(fresh, f) != v]
        if changed:
            for field in changed:
                setattr(fresh, field, clean[field])
            for_history(fresh, user, "edited " + ", ".join(changed))
            fresh.save()
    return refresh(entry, fresh)


def timeline_entry_remove(*, entry: PostmortemTimelineEntry, user: Any) -> None:
    """Drop a row that does not belong in the story (history keeps it)."""
    with transaction.atomic():
        row = locked(entry.postmortem)
        perms.check(perms.may_write(user, row), "write this postmortem")
        writable(row)
        for_history(entry, user, "removed").delete()


def timeline_refresh(*, postmortem: Postmortem, user: Any) -> int:
    """Copy the incident's timeline entries added since (a late note); returns how many."""
    with transaction.atomic():
        row = locked(postmortem)
        perms.check(perms.may_write(user, row), "write this postmortem")
        writable(row)
        return _copy_timeline(row, user)
