"""Details and corrections: title, summary, type, impact figures, lifecycle times."""

import copy
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from ircore.errors import RuleError
from ircore.models import IncidentType

from .. import permissions, signals
from ..models import (
    TIMESTAMP_ORDER,
    Incident,
    TimelineEntry,
)
from ._base import (
    AMOUNT_LIMIT,
    COUNT_LIMITS,
    EDITABLE_FIELDS,
    IMPACT_FIELDS,
    Status,
    _accepts,
    _aware,
    _for_history,
    _locked,
    _name,
    _now,
    _refresh_caller,
    _text,
    _times,
    check_chronology,
)
from .declaration import _regulatory_due
from .lifecycle import _acknowledged
from .thresholds import _announce_pending, _cross_thresholds
from .timeline import timeline_add

# The chat channel convention: "#incident-" then lowercase letters, digits and hyphens, within
# chat tools' 80-character limit (what ``channel_name_for`` makes).
CHANNEL_NAME = re.compile(r"#incident-[a-z0-9-]+")
CHANNEL_NAME_MAX = 80


def check_channel_name(value: str) -> str:
    """``value`` if it keeps the convention (empty: no channel), else a ``RuleError``."""
    if value and (len(value) > CHANNEL_NAME_MAX or not CHANNEL_NAME.fullmatch(value)):
        raise RuleError(
            "A channel name starts with '#incident-' and has only lowercase letters, digits "
            f"and hyphens, at most {CHANNEL_NAME_MAX} characters (e.g. #incident-2025-03-14-"
            "payments-down).",
            field="channel_name",
        )
    return value


# What starts the regulator's clock: detection, or the declaration without one.
START = ("detected_at", "declared_at")


def _parse_amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise RuleError(f"'{value}' is not an amount.", field="financial_impact") from None
    # NaN first: comparing it with anything raises instead of answering.
    if not amount.is_finite():
        raise RuleError(f"'{value}' is not an amount.", field="financial_impact")
    if amount < 0:
        raise RuleError("The amount cannot be negative.", field="financial_impact")
    if amount >= AMOUNT_LIMIT:
        raise RuleError(f"The amount must be below {AMOUNT_LIMIT:,.0f}.", field="financial_impact")
    return amount.quantize(Decimal("0.01"))


def _parse_count(field: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    limit = COUNT_LIMITS[field]
    too_big = RuleError(f"At most {limit:,}.", field=field)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    # ASCII digits only: int() would also read '１２', and raises on over 4,300 digits.
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        if len(value.strip()) > len(str(limit)):
            raise too_big
        number = int(value.strip())
    else:
        raise RuleError(f"'{value}' is not a whole number.", field=field)
    if number < 0:
        raise RuleError("Cannot be negative.", field=field)
    if number > limit:
        raise too_big
    return number


def _apply_update(
    incident: Incident, data: Mapping[str, Any], now: datetime
) -> dict[str, tuple[Any, Any]]:
    """Parse ``data`` onto ``incident`` (in memory) and check every rule; returns what changed
    as {field: (old, new)}. Raises ``RuleError`` naming the field on the first refusal."""
    allowed = set(EDITABLE_FIELDS) | set(TIMESTAMP_ORDER) | set(IMPACT_FIELDS)
    for field in data:
        if field in ("status", "severity"):
            raise RuleError(f"Change {field} with its own action, not by editing.", field=field)
        if field not in allowed:
            raise RuleError("This field cannot be changed.", field=field)
    changes: dict[str, tuple[Any, Any]] = {}
    for field, value in data.items():
        if field in IMPACT_FIELDS:
            value = (
                _parse_amount(value) if field == "financial_impact" else _parse_count(field, value)
            )
        elif field in ("title", "summary", "channel_name"):
            value = _text(field, value, required=field == "title")
            if field == "channel_name":
                value = check_channel_name(value)
        elif field == "incident_type":
            if value is not None and not isinstance(value, IncidentType):
                raise RuleError("Choose an incident type.", field=field)
        elif field == "is_drill":
            if not isinstance(value, bool):
                raise RuleError("Say true or false.", field=field)
        elif field in TIMESTAMP_ORDER:
            value = _aware(field, value)
            if field == "declared_at" and value is None:
                raise RuleError("The declaration time cannot be removed.", field=field)
            if value is not None and value > now:
                raise RuleError("A time cannot be in the future.", field=field)
        old = getattr(incident, field)
        if old != value:
            changes[field] = (old, value)
            setattr(incident, field, value)
    if not changes:
        return changes
    _accepts(incident, permissions.EDIT_DETAILS)
    check_chronology(_times(incident), blame=[f for f in changes if f in TIMESTAMP_ORDER])
    status = incident.status
    # Times the lifecycle stamped stay while the state that stamped them holds (MTTA and
    # MTTR are built on them); they can be corrected, not removed.
    if incident.acknowledged_at is None and status != Status.DECLARED:
        raise RuleError(
            f"An incident that is {status} keeps its acknowledgement time.",
            field="acknowledged_at",
        )
    mitigated_states = (Status.MONITORING, Status.RESOLVED, Status.CLOSED)
    if incident.mitigated_at is None and status in mitigated_states:
        raise RuleError(
            f"An incident that is {status} keeps its mitigation time.", field="mitigated_at"
        )
    if incident.resolved_at is not None and incident.is_open:
        raise RuleError(
            "Resolve the incident with the status action, not by setting the time.",
            field="resolved_at",
        )
    if status == Status.RESOLVED and incident.resolved_at is None:
        raise RuleError("A resolved incident keeps its resolution time.", field="resolved_at")
    if incident.closed_at is not None and not incident.is_closed:
        raise RuleError("Close the incident with the status action.", field="closed_at")
    if incident.is_closed and incident.closed_at is None:
        raise RuleError("A closed incident keeps its closing time.", field="closed_at")
    return changes


def check_incident_update(
    *, incident: Incident, data: Mapping[str, Any], now: datetime | None = None
) -> None:
    """Would ``incident_update`` accept ``data``? Raises its ``RuleError`` if not; changes
    nothing. Forms call it to show a refusal on the field before saving."""
    _apply_update(copy.copy(incident), data, _now(now))


def incident_update(
    *,
    incident: Incident,
    user: Any,
    data: Mapping[str, Any],
    now: datetime | None = None,
) -> Incident:
    """Change details, correct lifecycle times, or record impact figures.

    Status, severity and roles have their own verbs and are refused here. Time corrections
    keep the chronological order. A first acknowledgement or mitigation time given here is
    that moment of the lifecycle, recorded after the fact: it lands on the timeline at its
    time (an acknowledgement also sends ``incident_acknowledged``, as the verb does); changing
    a time already set is a correction. Impact changes may cross financial thresholds, whose
    audiences are notified once each; a drill that turns out real tells them then.
    """
    with transaction.atomic():
        locked = _locked(incident)
        now = _now(now)
        changes = _apply_update(locked, data, now)
        if not changes:
            return _refresh_caller(incident, locked)
        if "incident_type" in changes:
            locked.regulatory_due_at = _regulatory_due(
                locked.incident_type, locked.detected_at, locked.declared_at
            )
        elif changes.keys() & {"detected_at", "declared_at"} and locked.regulatory_due_at:
            # A running clock moves with its start, keeping the span it began with: the
            # type's hours may have changed since (a policy import), the obligation has not.
            old = {f: changes[f][0] if f in changes else getattr(locked, f) for f in START}
            span = locked.regulatory_due_at - (old["detected_at"] or old["declared_at"])
            locked.regulatory_due_at = (locked.detected_at or locked.declared_at) + span
        _for_history(locked, user, "details updated")
        locked.save()

        # From empty, these are lifecycle moments rather than corrections (see above).
        moments = {
            f for f in ("acknowledged_at", "mitigated_at") if f in changes and changes[f][0] is None
        }
        details = {f: v for f, v in changes.items() if f not in IMPACT_FIELDS and f not in moments}
        impact = {f: v for f, v in changes.items() if f in IMPACT_FIELDS}
        if "acknowledged_at" in moments:
            _acknowledged(locked, user, now)
        if "mitigated_at" in moments:
            suffix = f" (recorded {_show(now)})" if locked.mitigated_at != now else ""
            timeline_add(
                incident=locked,
                kind=TimelineEntry.Kind.FIELD,
                text=f"{_name(user)} recorded the mitigation{suffix}",
                author=user,
                occurred_at=locked.mitigated_at,
                data={"mitigated_at": _show(locked.mitigated_at)},
            )
        if details:
            timeline_add(
                incident=locked,
                kind=TimelineEntry.Kind.FIELD,
                text=f"{_name(user)} changed "
                + "; ".join(
                    f"{f.replace('_', ' ')}: {_show(old)} → {_show(new)}"
                    for f, (old, new) in details.items()
                ),
                author=user,
                occurred_at=now,
                data={f: [_show(o), _show(n)] for f, (o, n) in details.items()},
            )
        if impact:
            timeline_add(
                incident=locked,
                kind=TimelineEntry.Kind.IMPACT,
                text=f"{_name(user)} updated impact: "
                + "; ".join(
                    f"{f.replace('_', ' ')} {_show(new)}" for f, (_old, new) in impact.items()
                ),
                author=user,
                occurred_at=now,
                data={f: [_show(o), _show(n)] for f, (o, n) in impact.items()},
            )
        if impact:
            signals.send_on_commit(
                signals.impact_changed, Incident, incident=locked, user=user, changes=impact
            )
        if changes.get("is_drill") == (True, False):
            # Crossings recorded while it was a drill told nobody; now they must.
            _announce_pending(locked, user, now)
        if "financial_impact" in impact:
            _cross_thresholds(locked, user, now)
    return _refresh_caller(incident, locked)


def _show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)
