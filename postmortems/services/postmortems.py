"""The postmortem verbs: open (by itself on resolution, or by hand), write, review, publish,
re-open, hand over; and the reconciler that opens any the resolution signal missed.

Each verb runs in one transaction on the locked postmortem row, checks its rule (raising
``RuleError``/``ConflictError``/``NotAllowed``, which rolls everything back), writes history
(who, and why) and an entry of kind ``postmortem`` on the incident's timeline. The admin, the
API, the receiver and the beat task all call these; none repeats the logic.

This module opens and writes; review and publication are in ``postmortem_review``, the
postmortem's timeline rows in ``postmortem_timeline``, what they share in ``postmortem_base``
(all named here too), the deadline clock (reminders, overdue notices, telling the manager) in
``postmortem_clock``.

Decisions (README "Postmortems and action items"):

- Opens by itself only for a real incident whose severity says ``postmortem_required``;
  drills never do (their review is the drill's assessment, and drills never count), though
  anyone may open one for a drill by hand.
- Due at resolution + the severity's ``postmortem_due``. While nobody set the deadline by
  hand it follows the incident: re-opened and resolved again, the deadline counts from the
  new resolution. A postmortem opened before resolution gets its deadline then.
- Owned by the incident commander (the current holder, else the last one), else by whoever
  declared the incident.
- A published postmortem is read-only until re-opened with a reason; re-opening keeps the
  first publication time, so a later correction does not make a review that was on time late.
"""

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from incidents.models import Incident, RoleAssignment
from ircore.errors import ConflictError, RuleError

from .. import permissions as perms
from ..models import Postmortem
from .postmortem_base import (  # noqa: F401 - the public names live here too
    COUNT_LIMITS,
    EDITABLE,
    IMPACT_COUNTS,
    NEEDED_FOR_REVIEW,
    SECTION_LIMIT,
    SECTIONS,
    STARRED_KINDS,
    Status,
    _copy_timeline,
    aware,
    for_history,
    locked,
    name_of,
    note,
    refresh,
    text_of,
    utc,
    writable,
)
from .postmortem_review import (  # noqa: F401
    postmortem_publish,
    postmortem_reopen,
    postmortem_send_back,
    postmortem_submit,
)
from .postmortem_timeline import (  # noqa: F401
    timeline_entry_add,
    timeline_entry_remove,
    timeline_entry_update,
    timeline_refresh,
)

logger = logging.getLogger(__name__)

# The reconciler looks for missed openings among incidents resolved this recently (and
# declared within OPEN_LOOKBACK, so it reads the open-first index, not all of history).
RESOLVED_WINDOW = timedelta(days=30)
OPEN_LOOKBACK = timedelta(days=120)
BATCH = 200


# --- who owns it, when it is due ----------------------------------------------------------------


def commander_of(incident: Incident) -> Any:
    """The incident commander: the current holder, else the last one to hold it."""
    row = (
        RoleAssignment.objects.filter(
            incident=incident, role=RoleAssignment.Role.INCIDENT_COMMANDER
        )
        .select_related("user")
        .order_by(F("relieved_at").desc(nulls_first=True), "-assigned_at", "-pk")
        .first()
    )
    return row.user if row else None


def default_owner(incident: Incident) -> Any:
    return commander_of(incident) or incident.created_by


def deadline_for(incident: Incident) -> datetime | None:
    """Resolution + the severity's deadline; None while unresolved or with no deadline."""
    due = incident.severity.postmortem_due
    if incident.resolved_at is None or due is None:
        return None
    return incident.resolved_at + due


def requires_postmortem(incident: Incident) -> bool:
    """A postmortem opens by itself: resolved, real, and its severity requires one."""
    return (
        not incident.is_drill
        and incident.resolved_at is not None
        and incident.severity.postmortem_required
    )


def set_deadline(row: Postmortem, due_at: datetime | None, *, basis: datetime | None) -> None:
    """A new deadline starts its reminders afresh (their keys name the deadline too)."""
    from .postmortem_clock import plan

    row.due_at = due_at
    row.deadline_basis = basis
    row.reminded_for = None
    row.overdue_notices = 0
    row.manager_told_at = None
    row.next_reminder_at = plan(row)


# --- opening -------------------------------------------------------------------------------------


def postmortem_open(
    *,
    incident: Incident,
    user: Any = None,
    owner: Any = None,
    now: datetime | None = None,
) -> Postmortem:
    """Open the postmortem of ``incident`` (once: a second call returns the first one).

    ``user`` None is the system (on resolution); a person needs ``open_postmortem``. The
    sections start from what the incident knows (impact figures, its timeline as rows)."""
    now = now or timezone.now()
    if user is not None:
        perms.check(perms.may(user, perms.OPEN_POSTMORTEM), "open postmortems")
    existing = Postmortem.objects.filter(incident_id=incident.pk).first()
    if existing is not None:
        if user is not None:
            raise ConflictError(
                f"{incident.reference} already has a postmortem (opened "
                f"{existing.opened_at:%Y-%m-%d %H:%M} UTC).",
                field="incident",
            )
        return existing
    incident = Incident.objects.select_related("severity", "created_by").get(pk=incident.pk)
    owner = owner or default_owner(incident)
    try:
        with transaction.atomic():
            row = Postmortem(
                incident=incident,
                owner=owner,
                opened_at=now,
                opened_by=user if getattr(user, "pk", None) else None,
                customers_affected=incident.customers_affected,
                transactions_delayed=incident.transactions_delayed,
                transactions_failed=incident.transactions_failed,
                financial_impact=incident.financial_impact,
                summary=incident.summary,
            )
            set_deadline(row, deadline_for(incident), basis=incident.resolved_at)
            for_history(row, user, "opened" if user else "opened on resolution")
            row.save()
            copied = _copy_timeline(row, user)
            how = f"{name_of(user)} opened" if user else "Opened on resolution:"
            note(
                row,
                f"{how} the postmortem, owned by {name_of(owner) if owner else 'nobody yet'}, "
                f"due {utc(row.due_at)} ({copied} timeline entries copied).",
                user,
                now,
                due_at=row.due_at.isoformat() if row.due_at else None,
            )
    except IntegrityError:
        # Opened meanwhile by another caller (the receiver and the reconciler at once).
        found = Postmortem.objects.filter(incident_id=incident.pk).first()
        if found is None:
            raise
        if user is not None:
            raise ConflictError(
                f"{incident.reference} already has a postmortem.", field="incident"
            ) from None
        return found
    return row


def postmortem_follow_resolution(
    *, incident: Incident, now: datetime | None = None
) -> Postmortem | None:
    """What a resolution does (the receiver and the reconciler both call it): open the
    postmortem if the severity requires one, and move a policy deadline to this resolution."""
    now = now or timezone.now()
    incident = Incident.objects.select_related("severity").get(pk=incident.pk)
    row = Postmortem.objects.filter(incident_id=incident.pk).first()
    if row is None:
        if not requires_postmortem(incident):
            return None
        return postmortem_open(incident=incident, now=now)
    if incident.resolved_at is None or not row.due_from_policy or row.is_published:
        return row
    if row.deadline_basis == incident.resolved_at:
        return row
    with transaction.atomic():
        fresh = locked(row)
        if not fresh.due_from_policy or fresh.is_published:
            return fresh
        due = deadline_for(fresh.incident)
        set_deadline(fresh, due, basis=fresh.incident.resolved_at)
        for_history(fresh, None, "deadline follows the resolution")
        fresh.save()
        note(fresh, f"Postmortem due {utc(due)}, counted from the resolution.", None, now)
    return fresh


def postmortems_open_missed(*, now: datetime | None = None) -> int:
    """Beat: open the postmortems the resolution signal missed, and move the deadlines of
    incidents resolved again; returns how many it touched. Reads incidents resolved in the
    last ``RESOLVED_WINDOW`` (the signal is the fast path, this the one that never forgets)."""
    now = now or timezone.now()
    recent = Incident.objects.not_open().filter(
        declared_at__gte=now - OPEN_LOOKBACK,
        resolved_at__gte=now - RESOLVED_WINDOW,
        resolved_at__lte=now,
    )
    missing = recent.filter(
        is_drill=False, severity__postmortem_required=True, postmortem__isnull=True
    )
    moved = (
        Postmortem.objects.unpublished()
        .filter(due_from_policy=True, incident__in=recent)
        .exclude(deadline_basis=F("incident__resolved_at"))
    )
    ids = list(missing.order_by("resolved_at").values_list("pk", flat=True)[:BATCH])
    ids += list(moved.values_list("incident_id", flat=True)[:BATCH])
    done = 0
    for pk in dict.fromkeys(ids):
        try:
            done += postmortem_follow_resolution(incident=Incident(pk=pk), now=now) is not None
        except Exception:  # one broken incident must not hold up the others
            logger.exception("Postmortem of incident %s could not be opened; next tick", pk)
    return done


# --- writing -------------------------------------------------------------------------------------


def _count(field: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError("Give a whole number.", field=field)
    if value < 0 or value > COUNT_LIMITS.get(field, 2**63 - 1):
        raise RuleError("Out of range.", field=field)
    return value


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise RuleError("Give an amount such as 2500.50.", field="financial_impact") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 12:
        raise RuleError(
            "Give an amount from 0 to under 1,000,000,000,000.", field="financial_impact"
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise RuleError("At most 2 decimals.", field="financial_impact")
    return amount


def check_update(data: Mapping[str, Any]) -> dict[str, Any]:
    """The clean values of an edit; unknown fields are refused by name."""
    clean: dict[str, Any] = {}
    for field, value in data.items():
        if field in SECTIONS:
            clean[field] = text_of(field, value, SECTION_LIMIT)
        elif field in IMPACT_COUNTS:
            clean[field] = _count(field, value)
        elif field == "financial_impact":
            clean[field] = _amount(value)
        elif field == "review_meeting_at":
            clean[field] = aware(field, value)
        elif field == "attendees":
            people = list(value or [])
            if any(not getattr(p, "pk", None) for p in people):
                raise RuleError("Attendees are people with a login here.", field=field)
            clean[field] = people
        else:
            raise RuleError(f"'{field}' cannot be edited here.", field=field)
    return clean


def postmortem_update(
    *, postmortem: Postmortem, user: Any, data: Mapping[str, Any], now: datetime | None = None
) -> Postmortem:
    """Write sections, impact figures and the review meeting. Refused once published."""
    clean = check_update(data)
    with transaction.atomic():
        row = locked(postmortem)
        now = now or timezone.now()
        perms.check(perms.may_write(user, row), "write this postmortem")
        writable(row)
        attendees = clean.pop("attendees", None)
        changed = [f for f, v in clean.items() if getattr(row, f) != v]
        for field in changed:
            setattr(row, field, clean[field])
        if attendees is not None:
            wanted = {p.pk for p in attendees}
            if set(row.attendees.values_list("pk", flat=True)) != wanted:
                changed.append("attendees")
        if not changed:
            return refresh(postmortem, row)
        labels = ", ".join(f.replace("_", " ") for f in changed)
        for_history(row, user, f"edited {labels}")
        row.save()
        if attendees is not None and "attendees" in changed:
            for_history(row, user, f"edited {labels}")
            row.attendees.set(attendees)
        note(row, f"{name_of(user)} edited the postmortem: {labels}.", user, now, fields=changed)
    return refresh(postmortem, row)


def postmortem_set_deadline(
    *, postmortem: Postmortem, user: Any, due_at: datetime, reason: str, now: datetime | None = None
) -> Postmortem:
    """Move the deadline by hand (managers), with a reason; it stops following the policy."""
    due_at = aware("due_at", due_at)
    if due_at is None:
        raise RuleError("Give the new deadline.", field="due_at")
    reason = text_of("reason", reason, 1000, required="Say why the deadline moves.")
    with transaction.atomic():
        row = locked(postmortem)
        now = now or timezone.now()
        perms.check(perms.may(user, perms.SET_POSTMORTEM_DEADLINE), "move postmortem deadlines")
        writable(row)
        old = row.due_at
        row.due_from_policy = False
        set_deadline(row, due_at, basis=None)
        for_history(row, user, f"deadline moved: {reason}")
        row.save()
        note(
            row,
            f"{name_of(user)} moved the postmortem deadline {utc(old)} → {utc(due_at)}: {reason}",
            user,
            now,
        )
    return refresh(postmortem, row)


def postmortem_reassign(
    *, postmortem: Postmortem, user: Any, owner: Any, now: datetime | None = None
) -> Postmortem:
    """Hand the postmortem to another owner, who hears of it."""
    from ircore.links import absolute_url
    from ircore.notifications import notify_user

    if owner is None or not getattr(owner, "pk", None):
        raise RuleError("Choose the new owner.", field="owner")
    if not owner.is_active:
        raise RuleError(f"{name_of(owner)} is not an active user.", field="owner")
    with transaction.atomic():
        row = locked(postmortem)
        now = now or timezone.now()
        perms.check(perms.may_reassign(user, row), "hand this postmortem over")
        writable(row)
        if row.owner_id == owner.pk:
            raise ConflictError(f"{name_of(owner)} already owns it.", field="owner")
        old = row.owner
        row.owner = owner
        for_history(row, user, f"owner {name_of(old)} -> {name_of(owner)}")
        row.save(update_fields=["owner"])
        note(row, f"{name_of(user)} handed the postmortem to {name_of(owner)}.", user, now)
        notify_user(
            user=owner,
            subject=f"You own the postmortem of {row.incident.reference}",
            body=f"{name_of(user)} handed you the postmortem of {row.incident}. "
            f"It is due {utc(row.due_at)}.",
            topic=f"postmortems.postmortem:{row.pk}",
            link=absolute_url(row.get_absolute_url()),
        )
    return refresh(postmortem, row)
