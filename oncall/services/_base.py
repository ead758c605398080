"""What the on-call services share: time, history attribution, checks of plain values, and
the warnings a manager confirms."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.utils import timezone

from ircore.errors import ConflictError, RuleError

from ..models import Schedule
from ..rules import RotationWarning, rotation_warnings

# No on-call time is earlier (a time near year 1 cannot be shown west of UTC).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class WarningsNotAccepted(ConflictError):
    """The change breaks the seeds' rotation rules and nobody accepted that (HTTP 409): the
    warnings are listed, nothing is saved; saving again with ``accept_warnings`` goes ahead."""

    def __init__(self, warnings: list[RotationWarning]):
        self.warnings = warnings
        listed = " ".join(w.message for w in warnings)
        super().__init__(f"Accept these warnings to save: {listed}", field="accept_warnings")


@dataclass
class Saved:
    """A saved row and the rule warnings that hold after the change (accepted or none)."""

    obj: Any
    warnings: list[RotationWarning] = field(default_factory=list)


def now_or(now: datetime | None) -> datetime:
    return now or timezone.now()


def attributed(obj: Any, user: Any, reason: str = "") -> Any:
    """Tell simple-history who made the change when it is not a web request."""
    if getattr(user, "pk", None):
        obj._history_user = user
    if reason:
        obj._change_reason = reason[:100]
    return obj


def text(field_name: str, value: Any, *, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RuleError("Give some text.", field=field_name)
    if "\x00" in value:
        raise RuleError("Null characters are not allowed.", field=field_name)
    value = value.strip()
    if required and not value:
        raise RuleError("This cannot be empty.", field=field_name)
    if len(value) > limit:
        raise RuleError(f"At most {limit} characters (this is {len(value)}).", field=field_name)
    return value


def instant(field_name: str, value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise RuleError("Give a date and time.", field=field_name)
    if timezone.is_naive(value):
        raise RuleError("Give a time with its time zone (or in UTC).", field=field_name)
    if not EARLIEST <= value < LATEST:
        raise RuleError(
            f"Give a time between {EARLIEST:%Y} and {LATEST:%Y} (UTC).", field=field_name
        )
    return value.astimezone(UTC)


def person(field_name: str, user: Any) -> Any:
    if user is None or not getattr(user, "pk", None):
        raise RuleError("Name a person.", field=field_name)
    if not user.is_active:
        raise RuleError(f"{user.get_username()} is not an active user.", field=field_name)
    return user


def local_today(schedule: Schedule, now: datetime) -> date:
    return now.astimezone(schedule.zone).date()


def confirm_rules(
    *, schedule: Schedule, accept: bool, before: set[tuple], now: datetime
) -> list[RotationWarning]:
    """The rule warnings after a change; raises ``WarningsNotAccepted`` (rolling the
    caller's transaction back) if any is new since ``before`` and ``accept`` is false."""
    warnings = rotation_warnings(schedule=schedule, today=local_today(schedule, now))
    fresh = [w for w in warnings if w.key not in before]
    if fresh and not accept:
        raise WarningsNotAccepted(fresh)
    return warnings


def warning_keys(schedule: Schedule, now: datetime) -> set[tuple]:
    return {w.key for w in rotation_warnings(schedule=schedule, today=local_today(schedule, now))}
