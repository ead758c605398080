"""What the postmortem verbs share: the sections a person writes, text and time checks,
history attribution, the incident timeline entry, the row lock, and copying the incident's
timeline into the postmortem's own rows."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from incidents.models import TimelineEntry
from incidents.services import timeline_add
from ircore.errors import ConflictError, RuleError
from ircore.validators import plain_text_problem

from ..models import Postmortem, PostmortemTimelineEntry

logger = logging.getLogger(__name__)

Status = Postmortem.Status
# Sections a person writes (Markdown), each at most this long: a long review, not a log dump.
SECTION_LIMIT = 20_000
SECTIONS = (
    "summary",
    "user_impact",
    "business_impact",
    "immediate_cause",
    "contributing_factors",
    "five_whys",
    "root_cause",
    "detection",
    "went_well",
    "went_poorly",
    "lessons_learned",
    "other_attendees",
)
IMPACT_COUNTS = ("customers_affected", "transactions_delayed", "transactions_failed")
COUNT_LIMITS = {"customers_affected": 2**31 - 1}
EDITABLE = (*SECTIONS, *IMPACT_COUNTS, "financial_impact", "review_meeting_at", "attendees")
# Submitting for review needs at least these written (a review needs something to review).
NEEDED_FOR_REVIEW = ("summary", "root_cause")
# Incident timeline kinds pre-starred when copied: the moments every story has.
STARRED_KINDS = {
    TimelineEntry.Kind.DECLARED,
    TimelineEntry.Kind.ACKNOWLEDGEMENT,
    TimelineEntry.Kind.SEVERITY,
    TimelineEntry.Kind.STATUS,
}


# --- shared helpers ----------------------------------------------------------------------------


def name_of(user: Any) -> str:
    if user is None:
        return "system"
    return user.get_full_name() or user.get_username()


def for_history(obj: Any, user: Any, reason: str = "") -> Any:
    """Tell simple-history who made the change and why when it is not a web request."""
    if getattr(user, "pk", None):
        obj._history_user = user
    if reason:
        obj._change_reason = reason[:100]
    return obj


def text_of(field: str, value: Any, limit: int, *, required: str = "") -> str:
    """Text a person writes: storable, stripped, within ``limit``; ``required`` is the message
    when it must not be empty."""
    if value is None:
        value = ""
    problem = plain_text_problem(value, max_length=limit)
    if problem:
        raise RuleError(problem, field=field)
    value = value.strip()
    if required and not value:
        raise RuleError(required, field=field)
    return value


def aware(field: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise RuleError("Give a date and time.", field=field)
    if timezone.is_naive(value):
        raise RuleError("Give a time with its time zone (or in UTC).", field=field)
    return value


def utc(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "no deadline"


def note(postmortem: Postmortem, text: str, user: Any, now: datetime, **data: Any) -> None:
    """An entry of kind ``postmortem`` on the incident's timeline (a closed incident takes it:
    the link to its postmortem is what a finished record still gets)."""
    timeline_add(
        incident=postmortem.incident,
        kind=TimelineEntry.Kind.POSTMORTEM,
        text=text,
        author=user if getattr(user, "pk", None) else None,
        occurred_at=now,
        data={"postmortem": postmortem.pk, **data},
    )


def locked(postmortem: Postmortem) -> Postmortem:
    """Re-read under a row lock (the incident's own row is not locked: its verbs are not ours)."""
    return (
        Postmortem.objects.select_for_update(of=("self",))
        .select_related("incident__severity", "owner")
        .get(pk=postmortem.pk)
    )


def writable(row: Postmortem) -> None:
    if row.is_published:
        raise ConflictError(
            f"The postmortem of {row.incident.reference} is published and read-only; "
            "re-open it with a reason to change it.",
            field="status",
        )


def refresh(caller: Any, fresh: Any) -> Any:
    if caller is not fresh:
        caller.refresh_from_db()
    return fresh


def _copy_timeline(row: Postmortem, user: Any) -> int:
    """Copy the incident's timeline entries the postmortem does not have yet, as its rows."""
    have = set(
        PostmortemTimelineEntry.objects.filter(postmortem=row, source__isnull=False).values_list(
            "source_id", flat=True
        )
    )
    entries = TimelineEntry.objects.filter(incident_id=row.incident_id).order_by(
        "occurred_at", "id"
    )
    new = [
        for_history(
            PostmortemTimelineEntry(
                postmortem=row,
                occurred_at=e.occurred_at,
                text=e.text,
                kind=e.kind,
                source=e,
                starred=e.kind in STARRED_KINDS,
            ),
            user,
        )
        for e in entries
        if e.pk not in have and e.kind != TimelineEntry.Kind.POSTMORTEM
    ]
    for entry in new:  # one by one, so each lands in history
        entry.save()
    return len(new)


# Rows a reminder beat handles per run; the rest are due at the next one.
REMINDER_BATCH = 500


def send_due_reminders(
    model: type, remind: Callable[[int, datetime], int], *, now: datetime | None = None
) -> int:
    """A reminder beat: ``remind(pk, now)`` for each row of ``model`` whose
    ``next_reminder_at`` has come, oldest first; returns how many messages were sent. One
    broken row is logged and stays due, and does not hold up the others."""
    now = (now or timezone.now()).astimezone(UTC)
    ids = list(
        model.objects.filter(next_reminder_at__lte=now)
        .order_by("next_reminder_at", "pk")
        .values_list("pk", flat=True)[:REMINDER_BATCH]
    )
    sent = 0
    for pk in ids:
        try:
            sent += remind(pk, now)
        except Exception:
            logger.exception("%s %s reminders failed; it stays due", model._meta.verbose_name, pk)
    return sent
