"""The lifecycle: acknowledge, move between statuses, change severity."""

from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from ircore.errors import ConflictError, RuleError
from ircore.models import Severity

from .. import permissions, signals
from ..models import (
    Incident,
    TimelineEntry,
)
from ._base import (
    Status,
    _accepts,
    _for_history,
    _limited,
    _locked,
    _name,
    _now,
    _refresh_caller,
    _times,
    check_chronology,
)
from .declaration import _add_checklist
from .timeline import timeline_add

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


def allowed_moves(incident: Incident) -> list[str]:
    return sorted(TRANSITIONS[incident.status], key=list(Status.values).index)


def incident_acknowledge(*, incident: Incident, user: Any, now: datetime | None = None) -> Incident:
    """Somebody owns it now: stamps ``acknowledged_at`` (MTTA) once."""
    with transaction.atomic():
        locked = _locked(incident)
        # The clock is read under the lock, so times follow the order the lock grants.
        now = _now(now)
        _accepts(locked, permissions.ACKNOWLEDGE)
        if locked.acknowledged_at is not None:
            raise ConflictError(
                f"{locked.reference} was already acknowledged at "
                f"{locked.acknowledged_at:%Y-%m-%d %H:%M:%S %Z}.",
                field="acknowledged_at",
            )
        if not locked.is_open:
            raise ConflictError(
                f"{locked.reference} is {locked.get_status_display().lower()}; "
                "there is nothing to acknowledge.",
                field="status",
            )
        check_chronology({**_times(locked), "acknowledged_at": now})
        locked.acknowledged_at = now
        _for_history(locked, user, "acknowledged")
        locked.save(update_fields=["acknowledged_at", "updated_at"])
        _acknowledged(locked, user, now)
    return _refresh_caller(incident, locked)


def _acknowledged(locked: Incident, user: Any, now: datetime) -> None:
    """What an acknowledgement leaves, however its time was recorded (the verb, or a first
    ``acknowledged_at`` given by editing): the timeline entry at that time, and the event
    paging stops on."""
    at = locked.acknowledged_at
    text = f"{_name(user)} acknowledged the incident"
    if at != now:  # recorded after the fact
        text += f" (recorded {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
    timeline_add(
        incident=locked,
        kind=TimelineEntry.Kind.ACKNOWLEDGEMENT,
        text=text,
        author=user,
        occurred_at=at,
    )
    signals.send_on_commit(signals.incident_acknowledged, Incident, incident=locked, user=user)


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
    if status not in Status.values:
        raise RuleError(
            f"'{status}' is not a status; use one of {', '.join(Status.values)}.", field="status"
        )
    note = _limited("note", note, TimelineEntry.NOTE_LIMIT)
    with transaction.atomic():
        locked = _locked(incident)
        now = _now(now)
        _accepts(locked, permissions.MOVE)
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

        if acknowledged_now:  # leaving declared acknowledges: as one, before the move
            _acknowledged(locked, user, now)
        verb = "re-opened the incident" if reopened else f"moved status {old} → {status}"
        text = f"{_name(user)} {verb}"
        if note:
            text += f": {note}"
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.STATUS,
            text=text,
            author=user,
            occurred_at=now,
            data={"from": old, "to": status, "note": note},
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
    if severity is None:
        raise RuleError("Choose a severity.", field="severity")
    reason = _limited(
        "reason", reason, TimelineEntry.NOTE_LIMIT, required="Say why the severity changes."
    )
    with transaction.atomic():
        locked = _locked(incident)
        now = _now(now)
        _accepts(locked, permissions.CHANGE_SEVERITY)
        old = locked.severity
        if old.pk == severity.pk:
            raise ConflictError(f"{locked.reference} is already {old.key}.", field="severity")
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
