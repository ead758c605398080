"""The timeline: the one way an entry lands, and notes people add."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from ircore.errors import RuleError

from .. import permissions
from ..models import (
    Incident,
    TimelineEntry,
)
from ._base import _accepts, _aware, _for_history, _limited, _locked, _now

# A browser's clock may run a little ahead of the server's: a note dated "now" there is kept.
CLOCK_SKEW = timedelta(minutes=5)


def timeline_add(
    *,
    incident: Incident,
    kind: str,
    text: str,
    author: Any = None,
    data: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> TimelineEntry:
    """The one way anything lands on an incident's timeline (later apps call it too)."""
    if kind not in TimelineEntry.Kind.values:
        raise RuleError(f"'{kind}' is not a timeline kind.", field="kind")
    entry = TimelineEntry(
        incident=incident,
        kind=kind,
        text=text,
        author=author,
        data=dict(data or {}),
        occurred_at=_now(occurred_at),
    )
    _for_history(entry, author)
    entry.save()
    return entry


def note_add(
    *,
    incident: Incident,
    kind: str,
    text: str,
    user: Any,
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> TimelineEntry:
    """A responder's note, hypothesis, action or decision; a closed incident still takes them.

    ``occurred_at`` dates it when it happened, for a timeline written after the fact: not in
    the future; it may be before the declaration (the deploy that caused it, the first
    complaint), the story often starts there.
    """
    if kind not in TimelineEntry.MANUAL_KINDS:
        allowed = ", ".join(TimelineEntry.MANUAL_KINDS)
        raise RuleError(f"'{kind}' is not a note kind; use one of {allowed}.", field="kind")
    text = _limited("text", text, TimelineEntry.NOTE_LIMIT, required="A note needs some text.")
    occurred_at = _aware("occurred_at", occurred_at)
    with transaction.atomic():
        locked = _locked(incident)
        now = _now(now)
        _accepts(locked, permissions.NOTE)
        if occurred_at is not None and occurred_at > now + CLOCK_SKEW:
            raise RuleError("A note cannot be dated in the future.", field="occurred_at")
        return timeline_add(
            incident=locked, kind=kind, text=text, author=user, occurred_at=occurred_at or now
        )
