"""What the drill verbs share: constants, input checks, history attribution, the row lock,
and the line each verb writes on a drill incident's timeline."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from incidents.alerts.models import Integration
from incidents.models import Incident, TimelineEntry
from incidents.services import timeline_add
from ircore.errors import RuleError
from ircore.models import Service
from ircore.policy import format_duration

from ...models import Drill

Status = Drill.Status
TARGETS = ("detect_target", "ack_target", "resolve_target")
ACTUALS = ("detect_actual", "ack_actual", "resolve_actual")
TEXT_LIMIT = 10_000
# How far back a game day's fault may be said to have started (the alert's start).
MAX_FAULT_AGE = timedelta(days=1)
EDITABLE = (
    "title",
    "scenario",
    "scheduled_for",
    "service",
    "integration",
    "alert_severity",
    *TARGETS,
)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _name(user: Any) -> str:
    return "system" if user is None else (user.get_full_name() or user.get_username())


def _mark(obj: Any, user: Any, reason: str) -> Any:
    if getattr(user, "pk", None):
        obj._history_user = user
    obj._change_reason = reason[:100]
    return obj


def _text(field: str, value: Any, limit: int, *, required: str = "") -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RuleError("Give some text.", field=field)
    if "\x00" in value:
        raise RuleError("Null characters are not allowed.", field=field)
    value = value.strip()
    if required and not value:
        raise RuleError(required, field=field)
    if len(value) > limit:
        raise RuleError(f"At most {limit:,} characters (this is {len(value):,}).", field=field)
    return value


def _aware(field: str, value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise RuleError("Give a date and time.", field=field)
    if timezone.is_naive(value):
        raise RuleError("Give a time with its time zone (or in UTC).", field=field)
    return value


def _duration(field: str, value: Any) -> timedelta | None:
    if value is None:
        return None
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise RuleError("Give a duration of zero or more (e.g. 15m, 4h).", field=field)
    return value


def _locked(drill: Drill) -> Drill:
    return Drill.objects.select_for_update().get(pk=drill.pk)


def _people(participants: Any) -> list:
    people = list(dict.fromkeys(participants or ()))
    for person in people:
        if not person.is_active:
            raise RuleError(f"{_name(person)} is not an active user.", field="participants")
    return people


def _check_kind_fields(kind: str, service: Service | None, integration: Integration | None):
    if kind == Drill.Kind.GAME_DAY:
        if service is None:
            raise RuleError("A game day needs the service under test.", field="service")
        if integration is None:
            raise RuleError(
                "A game day needs the integration its synthetic alert goes through.",
                field="integration",
            )
    elif integration is not None:
        raise RuleError(
            "Only a game day injects an alert; leave the integration empty.", field="integration"
        )


def _entry(drill: Drill, text: str, user: Any, now: datetime, event: str, **data) -> None:
    """A line on the drill incident's timeline (a drill without one has its history only)."""
    if drill.incident_id is None:
        return
    timeline_add(
        incident=Incident(pk=drill.incident_id),
        kind=TimelineEntry.Kind.NOTE,
        text=f"DRILL: {text}",
        author=user if getattr(user, "pk", None) else None,
        occurred_at=now,
        data={"drill": drill.pk, "event": event, **data},
    )


def _shown(value: timedelta | None) -> str:
    return format_duration(value) if value is not None else "none"
