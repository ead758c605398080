"""The timeline: the one way an entry lands, and notes people add."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from ircore.errors import RuleError

from ..models import (
    Incident,
    TimelineEntry,
)
from ._base import _aware, _for_history, _now, _plain


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
) -> TimelineEntry:
    """A responder's note, hypothesis, action or decision."""
    if kind not in TimelineEntry.MANUAL_KINDS:
        allowed = ", ".join(TimelineEntry.MANUAL_KINDS)
        raise RuleError(f"'{kind}' is not a note kind; use one of {allowed}.", field="kind")
    text = _plain("text", text).strip()
    if not text:
        raise RuleError("A note needs some text.", field="text")
    occurred_at = _aware("occurred_at", occurred_at)
    if occurred_at is not None and occurred_at > timezone.now() + timedelta(minutes=5):
        raise RuleError("A note cannot be dated in the future.", field="occurred_at")
    with transaction.atomic():
        return timeline_add(
            incident=incident, kind=kind, text=text, author=user, occurred_at=occurred_at
        )
