"""Helpers every incident verb shares: the row lock, what a closed incident accepts, history
attribution, time and text checks."""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from ircore.errors import ConflictError, RuleError

from .. import permissions
from ..models import (
    TIMESTAMP_ORDER,
    Incident,
)

User = AbstractBaseUser
Status = Incident.Status
IMPACT_FIELDS = (
    "customers_affected",
    "transactions_delayed",
    "transactions_failed",
    "financial_impact",
)
# financial_impact is DECIMAL(14, 2): twelve digits before the point.
AMOUNT_LIMIT = Decimal(10) ** 12
# Largest counts the impact columns hold on every database (PostgreSQL's integer / bigint;
# SQLite takes up to 2**63 - 1 in either and fails beyond).
COUNT_LIMITS = {
    "customers_affected": 2**31 - 1,
    "transactions_delayed": 2**63 - 1,
    "transactions_failed": 2**63 - 1,
}
# No incident time is earlier: a time near year 1 cannot even be shown in a time zone west
# of UTC (the conversion overflows), so the admin and the API would fail displaying it.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
EDITABLE_FIELDS = ("title", "summary", "incident_type", "is_drill", "channel_name")
SECURITY_CHECKPOINTS = {
    "evidence_preserved": "evidence_preserved_at",
    "credentials_rotated": "credentials_rotated_at",
    "regulator_notified": "regulator_notified_at",
}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _name(user: Any) -> str:
    if user is None:
        return "system"
    return user.get_full_name() or user.get_username()


def _for_history(obj: Any, user: Any, reason: str = "") -> Any:
    """Tell simple-history who made the change when it is not a web request."""
    if user is not None:
        obj._history_user = user
    if reason:
        obj._change_reason = reason[:100]
    return obj


def _locked(incident: Incident) -> Incident:
    """Re-read the incident under a row lock, so concurrent moves serialise.

    ``of=("self",)``: lock the incident only. PostgreSQL refuses FOR UPDATE on the nullable
    side of the outer join to ``incident_type``, and the policy rows need no lock anyway.
    """
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("severity", "incident_type")
        .get(pk=incident.pk)
    )


def _accepts(incident: Incident, name: str) -> None:
    """The one check of what a closed incident still accepts: the verb table says
    (``Verb.on_closed``; notes only). Call it on the locked row."""
    if not permissions.accepts(incident, name):
        raise ConflictError(permissions.closed_refusal(incident), field="status")


def _refresh_caller(caller: Incident, fresh: Incident) -> Incident:
    """Keep the caller's instance in step with what was saved."""
    if caller is not fresh:
        caller.refresh_from_db()
    return fresh


def check_chronology(values: Mapping[str, datetime | None], *, blame: Iterable[str] = ()) -> None:
    """Lifecycle times must keep their order, or MTTD/MTTA/MTTR would come out negative.

    ``blame`` lists the fields the caller supplied: when two times are out of order, the error
    names the one of them that was supplied (the earlier one if both were), so a correction of
    ``detected_at`` to after the declaration is reported on ``detected_at``, not on the
    untouched ``declared_at``.
    """
    blame = set(blame)
    previous_field, previous = None, None
    for field in TIMESTAMP_ORDER:
        value = values.get(field)
        if value is None:
            continue
        if previous is not None and value < previous:
            later, earlier = _label(field), _label(previous_field)
            # Both in UTC: values may arrive with different offsets (defect 15).
            shown = f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
            shown_previous = f"{previous.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
            if previous_field in blame:
                raise RuleError(
                    f"{earlier} time ({shown_previous}) cannot be after {later} time "
                    f"({shown}); durations would be negative.",
                    field=previous_field,
                )
            raise RuleError(
                f"{later} time ({shown}) cannot be before {earlier} time "
                f"({shown_previous}); durations would be negative.",
                field=field,
            )
        previous_field, previous = field, value


def _label(field: str) -> str:
    return field.removesuffix("_at").replace("_", " ")


def _aware(field: str, value: Any) -> datetime | None:
    """A lifecycle time must be a timezone-aware datetime (or None to clear it), not before
    ``EARLIEST``."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise RuleError("Give a date and time.", field=field)
    if timezone.is_naive(value):
        raise RuleError("Give a time with its time zone (or in UTC).", field=field)
    if value < EARLIEST:
        raise RuleError(f"Give a time on or after {EARLIEST:%Y-%m-%d} (UTC).", field=field)
    return value


def _plain(field: str, value: Any) -> str:
    """Text that every database stores: PostgreSQL refuses NUL characters in text and JSON,
    so one would fail the whole transaction there (SQLite would keep it)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RuleError("Give some text.", field=field)
    if "\x00" in value:
        raise RuleError("Null characters are not allowed.", field=field)
    return value


def _when(
    field: str,
    value: Any,
    *,
    now: datetime,
    after: tuple[str, datetime | None] | None = None,
) -> datetime:
    """When something happened, for recording it after the fact: ``value`` (default ``now``)
    must be aware, not in the future, and not before ``after`` = (what, time)."""
    if value is None:
        value = now
    else:
        value = _aware(field, value)
        if value > now:
            raise RuleError("A time cannot be in the future.", field=field)
    if after is not None and after[1] is not None and value < after[1]:
        raise RuleError(
            f"Cannot be before {after[0]} ({after[1]:%Y-%m-%d %H:%M:%S %Z}).", field=field
        )
    return value


def _limited(field: str, value: Any, limit: int, *, required: str = "") -> str:
    """Text a person writes (a note, a reason), stripped, within ``limit`` characters;
    ``required`` is the message when it must not be empty."""
    value = _plain(field, value).strip()
    if required and not value:
        raise RuleError(required, field=field)
    if len(value) > limit:
        raise RuleError(f"At most {limit:,} characters (this is {len(value):,}).", field=field)
    return value


def _text(field: str, value: Any, *, required: bool = False) -> str:
    """A text field, stripped, within its column's length."""
    value = _plain(field, value).strip()
    if required and not value:
        raise RuleError(f"An incident needs a {field.replace('_', ' ')}.", field=field)
    limit = Incident._meta.get_field(field).max_length
    if limit is not None and len(value) > limit:
        raise RuleError(f"At most {limit} characters (this is {len(value)}).", field=field)
    return value


def _person(user: Any) -> Any:
    """The user to credit in history (None for the system or an unsaved user)."""
    return user if getattr(user, "pk", None) else None


def _times(incident: Incident) -> dict[str, datetime | None]:
    return {field: getattr(incident, field) for field in TIMESTAMP_ORDER}
