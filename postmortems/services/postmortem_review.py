"""Review and publication: draft -> in review (-> back to draft) -> published, and
re-opening a published postmortem with a reason. Each on the locked row, with history and an
incident timeline entry."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ircore.errors import ConflictError, RuleError

from .. import permissions as perms
from ..models import Postmortem
from .postmortem_base import (
    NEEDED_FOR_REVIEW,
    Status,
    for_history,
    locked,
    name_of,
    note,
    refresh,
    text_of,
    utc,
)


def postmortem_submit(
    *, postmortem: Postmortem, user: Any, now: datetime | None = None
) -> Postmortem:
    """Draft -> in review, once the summary and the root cause are written."""
    with transaction.atomic():
        row = locked(postmortem)
        now = now or timezone.now()
        perms.check(perms.may_write(user, row), "send this postmortem for review")
        if row.status != Status.DRAFT:
            raise ConflictError(f"It is {row.get_status_display().lower()}, not a draft.", "status")
        for field in NEEDED_FOR_REVIEW:
            if not getattr(row, field).strip():
                raise RuleError(
                    f"Write the {field.replace('_', ' ')} before sending it for review.", field
                )
        row.status, row.submitted_at = Status.IN_REVIEW, now
        for_history(row, user, "sent for review")
        row.save(update_fields=["status", "submitted_at"])
        note(row, f"{name_of(user)} sent the postmortem for review.", user, now)
    return refresh(postmortem, row)


def postmortem_send_back(
    *, postmortem: Postmortem, user: Any, reason: str, now: datetime | None = None
) -> Postmortem:
    """In review -> draft, with what to change."""
    reason = text_of("reason", reason, 2000, required="Say what should change.")
    with transaction.atomic():
        row = locked(postmortem)
        now = now or timezone.now()
        perms.check(perms.may_write(user, row), "send this postmortem back")
        if row.status != Status.IN_REVIEW:
            raise ConflictError(
                f"It is {row.get_status_display().lower()}, not in review.", "status"
            )
        row.status = Status.DRAFT
        for_history(row, user, f"sent back: {reason}")
        row.save(update_fields=["status"])
        note(row, f"{name_of(user)} sent the postmortem back to draft: {reason}", user, now)
    return refresh(postmortem, row)


def postmortem_publish(
    *, postmortem: Postmortem, user: Any, now: datetime | None = None
) -> Postmortem:
    """In review -> published (incident managers). Its reminders stop."""
    with transaction.atomic():
        row = locked(postmortem)
        now = now or timezone.now()
        perms.check(perms.may(user, perms.PUBLISH_POSTMORTEM), "publish postmortems")
        if row.status != Status.IN_REVIEW:
            raise ConflictError(
                f"Only a postmortem in review can be published; this one is "
                f"{row.get_status_display().lower()}.",
                field="status",
            )
        first = row.published_at is None
        row.status = Status.PUBLISHED
        if first:
            row.published_at, row.published_by = now, user
        row.next_reminder_at = None
        for_history(row, user, "published" if first else "published again")
        row.save(update_fields=["status", "published_at", "published_by", "next_reminder_at"])
        late = row.due_at is not None and row.published_at > row.due_at
        timing = (
            f", {'after' if late else 'by'} its deadline {utc(row.due_at)}" if row.due_at else ""
        )
        again = "" if first else " again"
        note(row, f"{name_of(user)} published the postmortem{again}{timing}.", user, now)
    return refresh(postmortem, row)


def postmortem_reopen(
    *, postmortem: Postmortem, user: Any, reason: str, now: datetime | None = None
) -> Postmortem:
    """Published -> draft, with a reason (incident managers)."""
    reason = text_of("reason", reason, 2000, required="Say why it is re-opened.")
    with transaction.atomic():
        row = locked(postmortem)
        now = now or timezone.now()
        perms.check(perms.may(user, perms.REOPEN_POSTMORTEM), "re-open postmortems")
        if not row.is_published:
            raise ConflictError("Only a published postmortem can be re-opened.", field="status")
        row.status, row.reopened_at, row.reopen_reason = Status.DRAFT, now, reason
        for_history(row, user, f"re-opened: {reason}")
        row.save(update_fields=["status", "reopened_at", "reopen_reason"])
        note(row, f"{name_of(user)} re-opened the postmortem: {reason}", user, now)
    return refresh(postmortem, row)
