"""The verbs of the incident lifecycle.

Each function runs in one transaction on a locked incident row, checks its rule (raising
``RuleError``/``ConflictError``, which rolls everything back), stamps the time, writes the
timeline and history, and sends its event after commit. The admin, the API, Celery tasks and
commands all call these; none of them repeats the logic.
"""

import copy
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from ircore.errors import ConflictError, RuleError
from ircore.models import FinancialThreshold, IncidentType, Profile, Service, Severity

from . import signals
from .models import (
    TIMESTAMP_ORDER,
    ChecklistItem,
    Incident,
    IncidentService,
    ReferenceCounter,
    RoleAssignment,
    ThresholdCrossing,
    TimelineEntry,
)

User = AbstractBaseUser
Status = Incident.Status

# The lifecycle as a state machine: from -> the states it may move to.
# Re-opening (resolved -> investigating) is allowed; closing needs resolving first.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DECLARED: frozenset(
        {Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED}
    ),
    Status.INVESTIGATING: frozenset({Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED}),
    Status.IDENTIFIED: frozenset({Status.INVESTIGATING, Status.MONITORING, Status.RESOLVED}),
    Status.MONITORING: frozenset({Status.INVESTIGATING, Status.IDENTIFIED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.INVESTIGATING}),
    Status.CLOSED: frozenset(),
}

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


def _refresh_caller(caller: Incident, fresh: Incident) -> Incident:
    """Keep the caller's instance in step with what was saved."""
    if caller is not fresh:
        caller.refresh_from_db()
    return fresh


# --- timeline -----------------------------------------------------------------------------


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


# --- declaration ---------------------------------------------------------------------------


def _next_reference(day) -> str:
    """INC-YYYY-MM-DD-NNN from a per-day counter held under a row lock."""
    try:
        with transaction.atomic():
            counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(day=day)
    except IntegrityError:  # another declaration created today's row first
        counter = ReferenceCounter.objects.select_for_update().get(day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"INC-{day:%Y-%m-%d}-{counter.last:03d}"


def channel_name_for(declared_at: datetime, title: str) -> str:
    """#incident-YYYY-MM-DD-slug, within chat tools' 80-character channel limit. The day is
    the UTC day, the same as the reference's, so the two names of an incident agree."""
    prefix = f"#incident-{declared_at.astimezone(UTC):%Y-%m-%d}-"
    slug = slugify(title)[: 80 - len(prefix)].strip("-") or "incident"
    return prefix + slug


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
            shown = f"{value:%Y-%m-%d %H:%M:%S %Z}"
            shown_previous = f"{previous:%Y-%m-%d %H:%M:%S %Z}"
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


def _text(field: str, value: Any, *, required: bool = False) -> str:
    """A text field, stripped, within its column's length."""
    value = _plain(field, value).strip()
    if required and not value:
        raise RuleError(f"An incident needs a {field.replace('_', ' ')}.", field=field)
    limit = Incident._meta.get_field(field).max_length
    if limit is not None and len(value) > limit:
        raise RuleError(f"At most {limit} characters (this is {len(value)}).", field=field)
    return value


def _regulatory_due(
    incident_type: IncidentType | None, detected_at: datetime | None, declared_at: datetime
):
    """Detection + N hours; without a detection time, the declaration (which is never before
    detection) starts the clock, so a cleared detection time cannot restart it from today."""
    if incident_type is None or incident_type.regulatory_notification_hours is None:
        return None
    return (detected_at or declared_at) + timedelta(
        hours=incident_type.regulatory_notification_hours
    )


def _add_checklist(incident: Incident, severity: Severity, user: Any) -> list[ChecklistItem]:
    """Copy the severity's checklist items the incident does not have yet (with history rows
    naming ``user``: a plain bulk_create would leave them out of the audit trail)."""
    have = set(incident.checklist.values_list("text", flat=True))
    start = len(have)
    added = []
    for offset, template in enumerate(severity.checklist.order_by("position", "id")):
        if template.text in have:
            continue
        item = ChecklistItem(
            incident=incident,
            template_item=template,
            severity_key=severity.key,
            position=start + offset,
            text=template.text,
        )
        added.append(item)
    return bulk_create_with_history(added, ChecklistItem, default_user=_person(user))


def _person(user: Any) -> Any:
    """The user to credit in history (None for the system or an unsaved user)."""
    return user if getattr(user, "pk", None) else None


def incident_declare(
    *,
    title: str,
    severity: Severity,
    services: Iterable[Service] = (),
    summary: str = "",
    incident_type: IncidentType | None = None,
    is_drill: bool = False,
    detected_at: datetime | None = None,
    impact_started_at: datetime | None = None,
    user: Any = None,
    now: datetime | None = None,
) -> Incident:
    """Declare an incident: reference, chat channel, checklist of its severity, affected
    services, a first timeline entry, and the ``incident_declared`` event after commit."""
    now = _now(now)
    title = _text("title", title, required=True)
    summary = _text("summary", summary)
    if severity is None:
        raise RuleError("Choose a severity.", field="severity")
    given = {
        "impact_started_at": _aware("impact_started_at", impact_started_at),
        "detected_at": _aware("detected_at", detected_at),
    }
    detected_at = detected_at or now
    check_chronology(
        {"impact_started_at": impact_started_at, "detected_at": detected_at, "declared_at": now},
        blame=[field for field, value in given.items() if value is not None],
    )
    services = list(dict.fromkeys(services))
    with transaction.atomic():
        incident = Incident(
            reference=_next_reference(now.astimezone(UTC).date()),
            title=title,
            summary=summary,
            severity=severity,
            incident_type=incident_type,
            is_drill=is_drill,
            channel_name=channel_name_for(now, title),
            impact_started_at=impact_started_at,
            detected_at=detected_at,
            declared_at=now,
            regulatory_due_at=_regulatory_due(incident_type, detected_at, now),
            created_by=user if getattr(user, "pk", None) else None,
        )
        _for_history(incident, user, "declared")
        incident.save()
        bulk_create_with_history(
            [IncidentService(incident=incident, service=service) for service in services],
            IncidentService,
            default_user=_person(user),
        )
        items = _add_checklist(incident, severity, user)
        drill = " (drill)" if is_drill else ""
        timeline_add(
            incident=incident,
            kind=TimelineEntry.Kind.DECLARED,
            text=f"{_name(user)} declared {severity.key} {incident.reference}{drill}: {title}",
            author=user,
            occurred_at=now,
            data={
                "severity": severity.key,
                "services": [s.slug for s in services],
                "checklist_items": len(items),
            },
        )
        signals.send_on_commit(signals.incident_declared, Incident, incident=incident, user=user)
    return incident


# --- lifecycle -----------------------------------------------------------------------------


def allowed_moves(incident: Incident) -> list[str]:
    return sorted(TRANSITIONS[incident.status], key=list(Status.values).index)


def incident_acknowledge(*, incident: Incident, user: Any, now: datetime | None = None) -> Incident:
    """Somebody owns it now: stamps ``acknowledged_at`` (MTTA) once."""
    now = _now(now)
    with transaction.atomic():
        locked = _locked(incident)
        if locked.acknowledged_at is not None:
            raise ConflictError(
                f"{locked.reference} was already acknowledged at "
                f"{locked.acknowledged_at:%Y-%m-%d %H:%M:%S %Z}.",
                field="acknowledged_at",
            )
        if locked.status in Incident.CLOSED_STATES:
            raise ConflictError(
                f"{locked.reference} is {locked.get_status_display().lower()}; "
                "there is nothing to acknowledge.",
                field="status",
            )
        check_chronology({**_times(locked), "acknowledged_at": now})
        locked.acknowledged_at = now
        _for_history(locked, user, "acknowledged")
        locked.save(update_fields=["acknowledged_at", "updated_at"])
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.ACKNOWLEDGEMENT,
            text=f"{_name(user)} acknowledged the incident",
            author=user,
            occurred_at=now,
        )
        signals.send_on_commit(signals.incident_acknowledged, Incident, incident=locked, user=user)
    return _refresh_caller(incident, locked)


def _times(incident: Incident) -> dict[str, datetime | None]:
    return {field: getattr(incident, field) for field in TIMESTAMP_ORDER}


def incident_set_status(
    *,
    incident: Incident,
    status: str,
    user: Any,
    note: str = "",
    now: datetime | None = None,
) -> Incident:
    """Move along the lifecycle, if the state machine allows it.

    1. Refuse unknown states (400) and moves the machine does not allow (409).
    2. Stamp the times the move implies: leaving ``declared`` acknowledges if nobody had;
       ``monitoring`` marks mitigation; ``resolved`` stamps resolution (and mitigation if
       unset); ``closed`` stamps closure; re-opening clears the resolution.
    3. Timeline entry, history, and events after commit.
    """
    now = _now(now)
    if status not in Status.values:
        raise RuleError(
            f"'{status}' is not a status; use one of {', '.join(Status.values)}.", field="status"
        )
    note = _plain("note", note)
    with transaction.atomic():
        locked = _locked(incident)
        old = locked.status
        allowed = ", ".join(allowed_moves(locked)) or "none (it is closed)"
        if status == old:
            raise ConflictError(
                f"{locked.reference} is already {old}; allowed: {allowed}.", field="status"
            )
        if status not in TRANSITIONS[old]:
            raise ConflictError(
                f"Cannot move {locked.reference} from {old} to {status}; allowed: {allowed}.",
                field="status",
            )
        changed = ["status", "updated_at"]
        acknowledged_now = False
        reopened = old == Status.RESOLVED and status == Status.INVESTIGATING
        if reopened:
            locked.resolved_at = None
            changed.append("resolved_at")
        if status != Status.CLOSED and locked.acknowledged_at is None:
            locked.acknowledged_at = now
            acknowledged_now = True
            changed.append("acknowledged_at")
        if status in (Status.MONITORING, Status.RESOLVED) and locked.mitigated_at is None:
            locked.mitigated_at = now
            changed.append("mitigated_at")
        if status == Status.RESOLVED:
            locked.resolved_at = now
            changed.append("resolved_at")
        if status == Status.CLOSED:
            locked.closed_at = now
            changed.append("closed_at")
        check_chronology(_times(locked))
        locked.status = status
        _for_history(locked, user, f"status {old} -> {status}")
        locked.save(update_fields=changed)

        verb = "re-opened the incident" if reopened else f"moved status {old} → {status}"
        text = f"{_name(user)} {verb}"
        if note:
            text += f": {note.strip()}"
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.STATUS,
            text=text,
            author=user,
            occurred_at=now,
            data={"from": old, "to": status, "note": note},
        )
        if acknowledged_now:
            signals.send_on_commit(
                signals.incident_acknowledged, Incident, incident=locked, user=user
            )
        signals.send_on_commit(
            signals.incident_status_changed,
            Incident,
            incident=locked,
            user=user,
            old_status=old,
            new_status=status,
        )
        if status == Status.RESOLVED:
            signals.send_on_commit(signals.incident_resolved, Incident, incident=locked, user=user)
        if status == Status.CLOSED:
            signals.send_on_commit(signals.incident_closed, Incident, incident=locked, user=user)
    return _refresh_caller(incident, locked)


def incident_change_severity(
    *,
    incident: Incident,
    severity: Severity,
    reason: str,
    user: Any,
    now: datetime | None = None,
) -> Incident:
    """Raise or lower severity with a reason; raising adds the new level's missing
    checklist items."""
    now = _now(now)
    reason = _plain("reason", reason).strip()
    if severity is None:
        raise RuleError("Choose a severity.", field="severity")
    if not reason:
        raise RuleError("Say why the severity changes.", field="reason")
    with transaction.atomic():
        locked = _locked(incident)
        old = locked.severity
        if old.pk == severity.pk:
            raise ConflictError(f"{locked.reference} is already {old.key}.", field="severity")
        if locked.status == Status.CLOSED:
            raise ConflictError(f"{locked.reference} is closed.", field="status")
        raised = severity.rank < old.rank
        locked.severity = severity
        _for_history(locked, user, f"severity {old.key} -> {severity.key}")
        locked.save(update_fields=["severity", "updated_at"])
        added = _add_checklist(locked, severity, user) if raised else []
        direction = "raised" if raised else "lowered"
        text = f"{_name(user)} {direction} severity {old.key} → {severity.key}: {reason}"
        if added:
            text += f" ({len(added)} checklist item{'s' if len(added) != 1 else ''} added)"
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.SEVERITY,
            text=text,
            author=user,
            occurred_at=now,
            data={
                "from": old.key,
                "to": severity.key,
                "reason": reason,
                "checklist_added": [i.text for i in added],
            },
        )
        signals.send_on_commit(
            signals.incident_severity_changed,
            Incident,
            incident=locked,
            user=user,
            old_severity=old,
            new_severity=severity,
            reason=reason,
        )
    return _refresh_caller(incident, locked)


# --- details, impact and thresholds --------------------------------------------------------


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
    if incident.resolved_at is not None and status not in Incident.CLOSED_STATES:
        raise RuleError(
            "Resolve the incident with the status action, not by setting the time.",
            field="resolved_at",
        )
    if status == Status.RESOLVED and incident.resolved_at is None:
        raise RuleError("A resolved incident keeps its resolution time.", field="resolved_at")
    if incident.closed_at is not None and status != Status.CLOSED:
        raise RuleError("Close the incident with the status action.", field="closed_at")
    if status == Status.CLOSED and incident.closed_at is None:
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
    keep the chronological order. Impact changes may cross financial thresholds, whose
    audiences are notified once each; a drill that turns out real tells them then.
    """
    now = _now(now)
    with transaction.atomic():
        locked = _locked(incident)
        changes = _apply_update(locked, data, now)
        if not changes:
            return _refresh_caller(incident, locked)
        if changes.keys() & {"incident_type", "detected_at", "declared_at"}:
            locked.regulatory_due_at = _regulatory_due(
                locked.incident_type, locked.detected_at, locked.declared_at
            )
        _for_history(locked, user, "details updated")
        locked.save()

        details = {f: v for f, v in changes.items() if f not in IMPACT_FIELDS}
        impact = {f: v for f, v in changes.items() if f in IMPACT_FIELDS}
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
        if changes.get("is_drill") == (True, False):
            # Crossings recorded while it was a drill told nobody; now they must.
            for crossing in locked.threshold_crossings.select_related("threshold").order_by(
                "threshold__amount"
            ):
                _announce_crossing(locked, crossing.threshold, crossing.amount, user, now)
        if "financial_impact" in impact:
            _cross_thresholds(locked, user, now)
    return _refresh_caller(incident, locked)


def _show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def _cross_thresholds(incident: Incident, user: Any, now: datetime) -> list[ThresholdCrossing]:
    """Record and announce every threshold the estimate has reached, once per incident.

    The unique (incident, threshold) constraint is what makes "once" hold when two updates
    race; the notification dedupe keys make a retried transaction harmless too.
    """
    amount = incident.financial_impact
    if amount is None:
        return []
    crossed_already = set(
        ThresholdCrossing.objects.filter(incident=incident).values_list("threshold_id", flat=True)
    )
    crossings = []
    due = FinancialThreshold.objects.filter(amount__lte=amount).exclude(pk__in=crossed_already)
    for threshold in due.prefetch_related("notify_users").order_by("amount"):
        try:
            with transaction.atomic():
                crossing = ThresholdCrossing.objects.create(
                    incident=incident, threshold=threshold, amount=amount, crossed_at=now
                )
        except IntegrityError:
            continue  # another update recorded this crossing first
        crossings.append(crossing)
        _announce_crossing(incident, threshold, amount, user, now)
    return crossings


def _announce_crossing(
    incident: Incident, threshold: FinancialThreshold, amount: Decimal, user: Any, now: datetime
) -> None:
    """Tell the threshold's audience (dedupe keys make a repeat harmless) and say so on the
    timeline."""
    from ircore.notifications import notify_email, notify_user

    subject = (
        f"[{incident.severity.key}] {incident.reference}: estimated impact "
        f"{amount:,.2f} crossed {threshold.amount:,.0f} ({threshold.audience})"
    )
    body = (
        f"{incident.reference} {incident.title}\n"
        f"Severity: {incident.severity}\nStatus: {incident.get_status_display()}\n"
        f"Estimated financial impact: {amount:,.2f}\n"
        f"Threshold: {threshold.amount:,.0f}, notify {threshold.audience}.\n"
    )
    topic = f"incidents.incident:{incident.pk}"
    recipients = []
    # A drill rehearses the process but must not tell a CFO or a board about money that
    # was never lost: the crossing is recorded, nobody is notified.
    people = [] if incident.is_drill else list(threshold.notify_users.all())
    addresses = [] if incident.is_drill else threshold.email_list
    for person in people:
        notify_user(
            user=person,
            subject=subject,
            body=body,
            topic=topic,
            dedupe_key=f"threshold:{incident.pk}:{threshold.pk}:user:{person.pk}",
        )
        recipients.append(person.get_username())
    for address in addresses:
        notify_email(
            address=address,
            subject=subject,
            body=body,
            topic=topic,
            dedupe_key=f"threshold:{incident.pk}:{threshold.pk}:email:{address}",
        )
        recipients.append(address)
    if incident.is_drill:
        outcome = f"would notify {threshold.audience} (drill: nobody notified)"
    else:
        outcome = f"notified {threshold.audience}" + (
            f" ({', '.join(recipients)})" if recipients else " (nobody configured)"
        )
    timeline_add(
        incident=incident,
        kind=TimelineEntry.Kind.THRESHOLD,
        text=f"Estimated impact {amount:,.2f} crossed {threshold.amount:,.0f}: {outcome}",
        author=user,
        occurred_at=now,
        data={
            "threshold": str(threshold.amount),
            "audience": threshold.audience,
            "recipients": recipients,
        },
    )


# --- affected services ---------------------------------------------------------------------


def affected_service_set(
    *,
    incident: Incident,
    service: Service,
    status: str,
    user: Any,
    now: datetime | None = None,
) -> IncidentService:
    """Add a service to the incident or change its status."""
    now = _now(now)
    if status not in IncidentService.Status.values:
        raise RuleError(
            f"'{status}' is not a service status; use one of "
            f"{', '.join(IncidentService.Status.values)}.",
            field="status",
        )
    with transaction.atomic():
        locked = _locked(incident)
        row = IncidentService.objects.filter(incident=locked, service=service).first()
        old = row.status if row else None
        if row is None:
            row = IncidentService(incident=locked, service=service, status=status)
        elif old == status:
            return row
        row.status = status
        _for_history(row, user)
        row.save()
        label = IncidentService.Status(status).label
        text = (
            f"{_name(user)} added {service.name} ({label.lower()})"
            if old is None
            else f"{_name(user)} set {service.name}: "
            f"{IncidentService.Status(old).label.lower()} → {label.lower()}"
        )
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.SERVICE,
            text=text,
            author=user,
            occurred_at=now,
            data={"service": service.slug, "from": old, "to": status},
        )
    return row


def affected_service_remove(
    *, incident: Incident, service: Service, user: Any, now: datetime | None = None
) -> None:
    with transaction.atomic():
        locked = _locked(incident)
        row = IncidentService.objects.filter(incident=locked, service=service).first()
        if row is None:
            raise RuleError(f"{service.name} is not on {locked.reference}.", field="service")
        _for_history(row, user)
        row.delete()
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.SERVICE,
            text=f"{_name(user)} removed {service.name}",
            author=user,
            occurred_at=_now(now),
            data={"service": service.slug, "from": row.status, "to": None},
        )


# --- roles ---------------------------------------------------------------------------------


def _ic_certified(person: Any, on) -> bool:
    profile = Profile.objects.filter(user=person).first()
    return bool(profile and profile.ic_certified(on))


def role_assign(
    *,
    incident: Incident,
    role: str,
    user: Any,
    by: Any,
    override_reason: str = "",
    now: datetime | None = None,
) -> RoleAssignment:
    """Give ``user`` a role; for single-holder roles this is a hand-over that relieves the
    current holder (whose row keeps when they held it).

    Only IC-certified people (certification present and unexpired) may be made Incident
    Commander, unless someone with ``override_ic_certification`` gives a reason.
    """
    now = _now(now)
    Role = RoleAssignment.Role
    if role not in Role.values:
        raise RuleError(
            f"'{role}' is not a role; use one of {', '.join(Role.values)}.", field="role"
        )
    if user is None:
        raise RuleError("Choose a person.", field="user")
    if not user.is_active:
        raise RuleError(f"{_name(user)} is not an active user.", field="user")
    override_reason = _plain("override_reason", override_reason).strip()
    limit = RoleAssignment._meta.get_field("override_reason").max_length
    if len(override_reason) > limit:
        raise RuleError(
            f"At most {limit} characters (this is {len(override_reason)}).",
            field="override_reason",
        )
    with transaction.atomic():
        locked = _locked(incident)
        if locked.status == Status.CLOSED:
            raise ConflictError(f"{locked.reference} is closed.", field="status")
        if role == Role.INCIDENT_COMMANDER and not _ic_certified(user, timezone.localdate(now)):
            if not override_reason:
                raise RuleError(
                    f"{_name(user)} has no valid incident commander certification "
                    "(missing or expired); an incident manager may override with a reason.",
                    field="user",
                )
            if by is None or not by.has_perm("incidents.override_ic_certification"):
                raise RuleError(
                    "Only incident managers may make an uncertified person IC.",
                    field="override_reason",
                )
        else:
            # Certified, or a role without certification: nothing was overridden, and the
            # record must not say it was.
            override_reason = ""
        current = list(
            RoleAssignment.objects.select_for_update(of=("self",))
            .filter(incident=locked, role=role, relieved_at__isnull=True)
            .select_related("user")
        )
        if any(a.user_id == user.pk for a in current):
            raise ConflictError(
                f"{_name(user)} is already {Role(role).label} on {locked.reference}.",
                field="user",
            )
        previous = None
        if role in RoleAssignment.SINGLE_HOLDER_ROLES and current:
            previous = current[0]
            previous.relieved_at = now
            _for_history(previous, by, "handed over")
            previous.save(update_fields=["relieved_at"])
        assignment = RoleAssignment(
            incident=locked,
            role=role,
            user=user,
            assigned_at=now,
            assigned_by=by if getattr(by, "pk", None) else None,
            override_reason=override_reason,
        )
        _for_history(assignment, by)
        assignment.save()
        label = Role(role).label
        if previous is not None:
            text = f"{_name(user)} took over as {label} from {_name(previous.user)}"
        else:
            text = f"{_name(user)} is now {label}"
        if by is not None and getattr(by, "pk", None) != user.pk:
            text += f" (assigned by {_name(by)})"
        if override_reason:
            text += f"; certification overridden: {override_reason}"
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.ROLE,
            text=text,
            author=by,
            occurred_at=now,
            data={
                "role": role,
                "user": user.get_username(),
                "previous": previous.user.get_username() if previous else None,
                "override_reason": override_reason,
            },
        )
    return assignment


def role_relieve(*, assignment: RoleAssignment, by: Any, now: datetime | None = None) -> None:
    """End someone's hold on a role without naming a successor."""
    now = _now(now)
    with transaction.atomic():
        locked_incident = _locked(assignment.incident)
        row = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
        if row.relieved_at is not None:
            raise ConflictError(f"{_name(row.user)} no longer holds this role.", field="user")
        row.relieved_at = now
        _for_history(row, by, "relieved")
        row.save(update_fields=["relieved_at"])
        timeline_add(
            incident=locked_incident,
            kind=TimelineEntry.Kind.ROLE,
            text=f"{_name(row.user)} stepped down as {row.get_role_display()}",
            author=by,
            occurred_at=now,
            data={"role": row.role, "user": row.user.get_username(), "relieved": True},
        )
    assignment.relieved_at = now


# --- checklist -----------------------------------------------------------------------------


def checklist_tick(
    *, item: ChecklistItem, user: Any, done: bool = True, now: datetime | None = None
) -> ChecklistItem:
    """Tick (or untick) a checklist item, recording who and when."""
    now = _now(now)
    with transaction.atomic():
        locked_incident = _locked(item.incident)
        row = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        if row.done == done:
            state = "already done" if done else "not done"
            raise ConflictError(f"'{row.text}' is {state}.", field="done")
        row.done_at = now if done else None
        row.done_by = user if done else None
        _for_history(row, user)
        row.save(update_fields=["done_at", "done_by"])
        verb = "ticked" if done else "unticked"
        timeline_add(
            incident=locked_incident,
            kind=TimelineEntry.Kind.CHECKLIST,
            text=f"{_name(user)} {verb} “{row.text}”",
            author=user,
            occurred_at=now,
            data={"item": row.pk, "done": done},
        )
    item.done_at, item.done_by = row.done_at, row.done_by
    return row


# --- security and privacy ------------------------------------------------------------------


def security_checkpoint_mark(
    *, incident: Incident, checkpoint: str, user: Any, now: datetime | None = None
) -> Incident:
    """Stamp a security/privacy checkpoint: evidence preserved, credentials rotated, or the
    regulator notified."""
    now = _now(now)
    if checkpoint not in SECURITY_CHECKPOINTS:
        raise RuleError(
            f"'{checkpoint}' is not a checkpoint; use one of {', '.join(SECURITY_CHECKPOINTS)}.",
            field="checkpoint",
        )
    field = SECURITY_CHECKPOINTS[checkpoint]
    with transaction.atomic():
        locked = _locked(incident)
        if not locked.security_tracked:
            raise RuleError(
                f"{locked.reference} is not a security or privacy incident.", field="checkpoint"
            )
        if getattr(locked, field) is not None:
            raise ConflictError(
                f"Already recorded at {getattr(locked, field):%Y-%m-%d %H:%M}.", field="checkpoint"
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
