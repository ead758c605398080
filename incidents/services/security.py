"""Security and privacy checkpoints."""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction

from ircore.errors import ConflictError, RuleError

from .. import permissions
from ..models import (
    Incident,
    TimelineEntry,
)
from ._base import (
    SECURITY_CHECKPOINTS,
    _accepts,
    _for_history,
    _locked,
    _name,
    _now,
    _refresh_caller,
)
from .timeline import timeline_add


def security_checkpoint_mark(
    *, incident: Incident, checkpoint: str, user: Any, now: datetime | None = None
) -> Incident:
    """Stamp a security/privacy checkpoint: evidence preserved, credentials rotated, or the
    regulator notified."""
    if checkpoint not in SECURITY_CHECKPOINTS:
        raise RuleError(
            f"'{checkpoint}' is not a checkpoint; use one of {', '.join(SECURITY_CHECKPOINTS)}.",
            field="checkpoint",
        )
    field = SECURITY_CHECKPOINTS[checkpoint]
    with transaction.atomic():
        locked = _locked(incident)
        now = _now(now)
        _accepts(locked, permissions.MARK_CHECKPOINT)
        if not locked.security_tracked:
            raise RuleError(
                f"{locked.reference} is not a security or privacy incident.", field="checkpoint"
            )
        if getattr(locked, field) is not None:
            raise ConflictError(
                f"Already recorded at {getattr(locked, field).astimezone(UTC):%Y-%m-%d %H:%M} UTC.",
                field="checkpoint",
            )
        setattr(locked, field, now)
        _for_history(locked, user, checkpoint.replace("_", " "))
        locked.save(update_fields=[field, "updated_at"])
        late = ""
        due = locked.regulatory_due_at
        if checkpoint == "regulator_notified" and due is not None and now > due:
            late = f" ({_late_by(now - locked.regulatory_due_at)} after the deadline)"
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.SECURITY,
            text=f"{_name(user)} recorded: {checkpoint.replace('_', ' ')}{late}",
            author=user,
            occurred_at=now,
            data={"checkpoint": checkpoint},
        )
    return _refresh_caller(incident, locked)


def _late_by(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
