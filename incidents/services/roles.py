"""Roles: assign (with the IC certification rule) and relieve, now or after the fact."""

from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from ircore.errors import ConflictError, RuleError
from ircore.models import Profile
from ircore.verbs import may

from .. import permissions, signals
from ..models import (
    Incident,
    RoleAssignment,
    TimelineEntry,
)
from ._base import _accepts, _for_history, _locked, _name, _now, _plain, _when
from .timeline import timeline_add


def _ic_certified(person: Any, on) -> bool:
    profile = Profile.objects.filter(user=person).first()
    return bool(profile and profile.ic_certified(on))


def _check_override_reason(value: Any) -> str:
    value = _plain("override_reason", value).strip()
    limit = RoleAssignment._meta.get_field("override_reason").max_length
    if len(value) > limit:
        raise RuleError(
            f"At most {limit} characters (this is {len(value)}).", field="override_reason"
        )
    return value


def role_assign(
    *,
    incident: Incident,
    role: str,
    user: Any,
    by: Any,
    override_reason: str = "",
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> RoleAssignment:
    """Give ``user`` a role; for single-holder roles this is a hand-over that relieves the
    current holder (whose row keeps when they held it).

    Only IC-certified people (certification present and unexpired on the day of the
    assignment) may be made Incident Commander, unless someone with
    ``override_ic_certification`` gives a reason.

    ``occurred_at`` records an assignment after the fact (an incident reconstructed later):
    not before the declaration, not in the future, and not before the current holder took the
    role (the hand-over relieves them then). ``now`` is the clock (tests inject it); it is read
    once the incident row is locked, so concurrent hand-overs take times in the order the lock
    grants and a relieved holder is never relieved before they were assigned.
    """
    Role = RoleAssignment.Role
    if role not in Role.values:
        raise RuleError(
            f"'{role}' is not a role; use one of {', '.join(Role.values)}.", field="role"
        )
    if user is None:
        raise RuleError("Choose a person.", field="user")
    if not user.is_active:
        raise RuleError(f"{_name(user)} is not an active user.", field="user")
    override_reason = _check_override_reason(override_reason)
    with transaction.atomic():
        locked = _locked(incident)
        now = _now(now)
        _accepts(locked, permissions.ASSIGN_ROLE)
        at = _when(
            "occurred_at", occurred_at, now=now, after=("the declaration", locked.declared_at)
        )
        if role == Role.INCIDENT_COMMANDER and not _ic_certified(user, at.astimezone(UTC).date()):
            if not override_reason:
                raise RuleError(
                    f"{_name(user)} has no valid incident commander certification "
                    "(missing or expired); an incident manager may override with a reason.",
                    field="user",
                )
            if by is None or not may(by, permissions.OVERRIDE_IC_CERTIFICATION):
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
            if at < previous.assigned_at:
                raise RuleError(
                    f"{_name(previous.user)} became {Role(role).label} at "
                    f"{previous.assigned_at:%Y-%m-%d %H:%M:%S %Z}; a hand-over cannot be "
                    "earlier.",
                    field="occurred_at",
                )
            previous.relieved_at = at
            _for_history(previous, by, "handed over")
            previous.save(update_fields=["relieved_at"])
        assignment = RoleAssignment(
            incident=locked,
            role=role,
            user=user,
            assigned_at=at,
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
            occurred_at=at,
            data={
                "role": role,
                "user": user.get_username(),
                "previous": previous.user.get_username() if previous else None,
                "override_reason": override_reason,
            },
        )
        if previous is not None:
            signals.send_on_commit(
                signals.role_relieved,
                Incident,
                incident=locked,
                user=by,
                assignment=previous,
                successor=assignment,
            )
        signals.send_on_commit(
            signals.role_assigned,
            Incident,
            incident=locked,
            user=by,
            assignment=assignment,
            previous=previous,
        )
    return assignment


def role_relieve(
    *,
    assignment: RoleAssignment,
    by: Any,
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> None:
    """End someone's hold on a role without naming a successor; ``occurred_at`` records it
    after the fact (not before the assignment, not in the future)."""
    with transaction.atomic():
        locked_incident = _locked(assignment.incident)
        now = _now(now)
        _accepts(locked_incident, permissions.RELIEVE_ROLE)
        row = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
        if row.relieved_at is not None:
            raise ConflictError(f"{_name(row.user)} no longer holds this role.", field="user")
        at = _when("occurred_at", occurred_at, now=now, after=("the assignment", row.assigned_at))
        row.relieved_at = at
        _for_history(row, by, "relieved")
        row.save(update_fields=["relieved_at"])
        timeline_add(
            incident=locked_incident,
            kind=TimelineEntry.Kind.ROLE,
            text=f"{_name(row.user)} stepped down as {row.get_role_display()}",
            author=by,
            occurred_at=at,
            data={"role": row.role, "user": row.user.get_username(), "relieved": True},
        )
        signals.send_on_commit(
            signals.role_relieved,
            Incident,
            incident=locked_incident,
            user=by,
            assignment=row,
            successor=None,
        )
    assignment.relieved_at = row.relieved_at
