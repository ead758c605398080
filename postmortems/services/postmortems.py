"""The postmortem verbs: open (by itself on resolution, or by hand), write, review, publish,
re-open, hand over; and the reconciler that opens any the resolution signal missed.

Each verb runs in one transaction on the locked postmortem row, checks its rule (raising
``RuleError``/``ConflictError``/``NotAllowed``, which rolls everything back), writes history
(who, and why) and an entry of kind ``postmortem`` on the incident's timeline. The admin, the
API, the receiver and the beat task all call these; none repeats the logic. The deadline
clock (reminders, overdue notices, telling the manager) is in ``postmortem_clock``.

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

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from incidents.models import Incident, RoleAssignment, TimelineEntry
from incidents.services import timeline_add
from ircore.errors import ConflictError, RuleError
from ircore.validators import plain_text_problem

from .. import permissions as perms
from ..models import Postmortem, PostmortemTimelineEntry

logger = logging.getLogger(__name__)

Status = Postmortem.Status
# Sections a person writes (Markdown), each at most this long: a long review, not a log dump.
SECTION_LIMIT = 20_000
SECTIONS = (
    "summary",
    "user_impact",
    "business_impact",
    "immediate_cause",
    "contributing_factors",
    "five_whys",
    "root_cause",
    "detection",
    "went_well",
    "went_poorly",
    "lessons_learned",
    "other_attendees",
)
IMPACT_COUNTS = ("customers_affected", "transactions_delayed", "transactions_failed")
COUNT_LIMITS = {"customers_affected": 2**31 - 1}
EDITABLE = (*SECTIONS, *IMPACT_COUNTS, "financial_impact", "review_meeting_at", "attendees")
# Submitting for review needs at least these written (a review needs something to review).
NEEDED_FOR_REVIEW = ("summary", "root_cause")
# Incident timeline kinds pre-starred when copied: the moments every story has.
STARRED_KINDS = {
    TimelineEntry.Kind.DECLARED,
    TimelineEntry.Kind.ACKNOWLEDGEMENT,
    TimelineEntry.Kind.SEVERITY,
    TimelineEntry.Kind.STATUS,
}
# The reconciler looks for missed openings among incidents resolved this recently (and
# declared within OPEN_LOOKBACK, so it reads the open-first index, not all of history).
RESOLVED_WINDOW = timedelta(days=30)
OPEN_LOOKBACK = timedelta(days=120)
BATCH = 200


# --- shared helpers ----------------------------------------------------------------------------


def name_of(user: Any) -> str:
    if user is None:
        return "system"
    return user.get_full_name() or user.get_username()


def for_history(obj: Any, user: Any, reason: str = "") -> Any:
    """Tell simple-history who made the change and why when it is not a web request."""
    if getattr(user, "pk", None):
        obj._history_user = user
    if reason:
        obj._change_reason = reason[:100]
    return obj


def text_of(field: str, value: Any, limit: int, *, required: str = "") -> str:
    """Text a person writes: storable, stripped, within ``limit``; ``required`` is the message
    when it must not be empty."""
    if value is None:
        value = ""
    problem = plain_text_problem(value, max_length=limit)
    if problem:
        raise RuleError(problem, field=field)
    value = value.strip()
    if required and not value:
        raise RuleError(required, field=field)
    return value


def aware(field: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise RuleError("Give a date and time.", field=field)
    if timezone.is_naive(value):
        raise RuleError("Give a time with its time zone (or in UTC).", field=field)
    return value


def utc(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "no deadline"


def note(postmortem: Postmortem, text: str, user: Any, now: datetime, **data: Any) -> None:
    """An entry of kind ``postmortem`` on the incident's timeline (a closed incident takes it:
    the link to its postmortem is what a finished record still gets)."""
    timeline_add(
        incident=postmortem.incident,
        kind=TimelineEntry.Kind.POSTMORTEM,
        text=text,
        author=user if getattr(user, "pk", None) else None,
        occurred_at=now,
        data={"postmortem": postmortem.pk, **data},
    )


def locked(postmortem: Postmortem) -> Postmortem:
    """Re-read under a row lock (the incident's own row is not locked: its verbs are not ours)."""
    return (
        Postmortem.objects.select_for_update(of=("self",))
        .select_related("incident__severity", "owner")
        .get(pk=postmortem.pk)
    )


def writable(row: Postmortem) -> None:
    if row.is_published:
        raise ConflictError(
            f"The postmortem of {row.incident.reference} is published and read-only; "
            "re-open it with a reason to change it.",
            field="status",
        )


def refresh(caller: Any, fresh: Any) -> Any:
    if caller is not fresh:
        caller.refresh_from_db()
    return fresh


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


def _copy_timeline(row: Postmortem, user: Any) -> int:
    """Copy the incident's timeline entries the postmortem does not have yet, as its rows."""
    have = set(
        PostmortemTimelineEntry.objects.filter(postmortem=row, source__isnull=False).values_list(
            "source_id", flat=True
        )
    )
    entries = TimelineEntry.objects.filter(incident_id=row.incident_id).order_by(
        "occurred_at", "id"
    )
    new = [
        for_history(
            PostmortemTimelineEntry(
                postmortem=row,
                occurred_at=e.occurred_at,
                text=e.text,
                kind=e.kind,
                source=e,
                starred=e.kind in STARRED_KINDS,
            ),
            user,
        )
        for e in entries
        if e.pk not in have and e.kind != TimelineEntry.Kind.POSTMORTEM
    ]
    for entry in new:  # one by one, so each lands in history
        entry.save()
    return len(new)


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


# --- review and publication ----------------------------------------------------------------------


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


# --- its timeline rows ---------------------------------------------------------------------------


def _entry_values(data: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for field, value in data.items():
        if field == "text":
            clean[field] = text_of(
                field, value, TimelineEntry.NOTE_LIMIT, required="Write what happened."
            )
        elif field == "occurred_at":
            clean[field] = aware(field, value)
            if clean[field] is None:
                raise RuleError("Give the time it happened.", field=field)
        elif field == "starred":
            if not isinstance(value, bool):
                raise RuleError("Give true or false.", field=field)
            clean[field] = value
        else:
            raise RuleError(f"'{field}' cannot be set on a timeline entry.", field=field)
    return clean


def timeline_entry_add(
    *, postmortem: Postmortem, user: Any, data: Mapping[str, Any], now: datetime | None = None
) -> PostmortemTimelineEntry:
    clean = _entry_values(data)
    for needed in ("text", "occurred_at"):
        if needed not in clean:
            raise RuleError("Required.", field=needed)
    with transaction.atomic():
        row = locked(postmortem)
        perms.check(perms.may_write(user, row), "write this postmortem")
        writable(row)
        entry = for_history(PostmortemTimelineEntry(postmortem=row, **clean), user, "added")
        entry.save()
    return entry


def timeline_entry_update(
    *, entry: PostmortemTimelineEntry, user: Any, data: Mapping[str, Any]
) -> PostmortemTimelineEntry:
    """Edit a row's text or time, or star it."""
    clean = _entry_values(data)
    with transaction.atomic():
        row = locked(entry.postmortem)
        perms.check(perms.may_write(user, row), "write this postmortem")
        writable(row)
        fresh = PostmortemTimelineEntry.objects.select_for_update().get(pk=entry.pk)
        changed = [f for f, v in clean.items() if getattr(fresh, f) != v]
        if changed:
            for field in changed:
                setattr(fresh, field, clean[field])
            for_history(fresh, user, "edited " + ", ".join(changed))
            fresh.save()
    return refresh(entry, fresh)


def timeline_entry_remove(*, entry: PostmortemTimelineEntry, user: Any) -> None:
    """Drop a row that does not belong in the story (history keeps it)."""
    with transaction.atomic():
        row = locked(entry.postmortem)
        perms.check(perms.may_write(user, row), "write this postmortem")
        writable(row)
        for_history(entry, user, "removed").delete()


def timeline_refresh(*, postmortem: Postmortem, user: Any) -> int:
    """Copy the incident's timeline entries added since (a late note); returns how many."""
    with transaction.atomic():
        row = locked(postmortem)
        perms.check(perms.may_write(user, row), "write this postmortem")
        writable(row)
        return _copy_timeline(row, user)


def users_named(usernames: list[str]) -> list[Any]:
    """People by username, for the API (unknown ones are named in the error)."""
    User = get_user_model()
    found = {u.get_username(): u for u in User.objects.filter(username__in=usernames)}
    missing = [n for n in usernames if n not in found]
    if missing:
        raise RuleError(f"Unknown user(s): {', '.join(missing)}.", field="attendees")
    return [found[n] for n in usernames]
