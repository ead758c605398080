"""The action item verbs (add, change, move along: start, done with evidence, won't do with a
reason, re-open) and their reminder clock.

Rules (README "Postmortems and action items"):

- The due date defaults from the priority: the ``action_items`` policy section's days from
  the day it is added (UTC). A priority the policy gives no days needs a date.
- Done needs the evidence of completion (003_*: "Document completion with evidence"); won't
  do needs a reason. The database holds both rules too (check constraints).
- A published postmortem is read-only, its items' wording with it (title, type,
  description); but items keep moving after publication (status, owner, dates, evidence):
  that is what chasing them until done means. New items on a published postmortem wait for
  it to be re-opened.

The clock (``action_reminders_due``) works like the postmortem one: ``next_reminder_at``
on an index, rows claimed with ``skip_locked``, stamps for what was sent and dedupe keys
naming the item, its due date and the period. Before due: one reminder ``REMIND_DAYS``
before (none if the item was added later than that: adding it told the owner). Overdue (the
day after the due date, UTC, as ``ActionItem.objects.overdue(today)`` has it): one notice
per week, the cadence of 003_*'s "Track progress in weekly team meetings".
"""

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ircore.errors import ConflictError, RuleError
from ircore.links import absolute_url
from ircore.models import Team
from ircore.notifications import notify_user

from .. import permissions as perms
from ..models import ActionItem, ActionItemDeadline, Postmortem
from ..models.actions import validate_https
from .postmortem_base import send_due_reminders
from .postmortems import for_history, name_of, note, refresh, text_of

logger = logging.getLogger(__name__)

Status = ActionItem.Status
REMIND_DAYS = 3
OVERDUE_EVERY = timedelta(days=7)
# What an item says (part of the postmortem's text) vs how it is getting on.
WORDING = ("title", "kind", "description")
PROGRESS = ("owner", "team", "priority", "due_on", "ticket_url", "evidence")


def today_utc(now: datetime) -> date:
    return now.astimezone(UTC).date()


def default_due_on(priority: str, today: date) -> date:
    """The policy's default due date for ``priority`` items added ``today``."""
    row = ActionItemDeadline.objects.filter(priority=priority).first()
    if row is None:
        raise RuleError(
            f"The policy sets no default for {priority.upper()} items: give a due date.",
            field="due_on",
        )
    return today + timedelta(days=row.days)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def plan(item: ActionItem) -> datetime | None:
    """When the clock next has something to say about ``item``."""
    if item.is_finished:
        return None
    overdue_from = _midnight(item.due_on + timedelta(days=1))
    moments = [overdue_from + item.overdue_notices * OVERDUE_EVERY]
    if item.reminded_for != item.due_on:
        moments.append(_midnight(item.due_on - timedelta(days=REMIND_DAYS)))
    return min(moments)


def restart_clock(item: ActionItem, now: datetime) -> None:
    """A new due date (or a re-opened item) reminds afresh; one added inside the reminder
    window needs no "due soon" reminder (adding it told the owner)."""
    item.overdue_notices = 0
    soon = _midnight(item.due_on - timedelta(days=REMIND_DAYS))
    item.reminded_for = item.due_on if now >= soon else None
    item.next_reminder_at = plan(item)


def _choice(field: str, value: Any, choices: Any) -> str:
    if value not in choices.values:
        raise RuleError(f"'{value}' is not one of {', '.join(choices.values)}.", field=field)
    return value


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for field, value in data.items():
        if field == "title":
            limit = ActionItem._meta.get_field("title").max_length
            clean[field] = text_of(field, value, limit, required="An action item needs a title.")
        elif field in ("description", "evidence"):
            clean[field] = text_of(field, value, 10_000)
        elif field == "kind":
            clean[field] = _choice("kind", value, ActionItem.Kind)
        elif field == "priority":
            clean[field] = _choice("priority", value, ActionItem.Priority)
        elif field == "due_on":
            if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
                raise RuleError("Give a date.", field=field)
            clean[field] = value
        elif field == "ticket_url":
            value = text_of(field, value, ActionItem._meta.get_field("ticket_url").max_length)
            try:
                validate_https(value)
                if value:
                    ActionItem._meta.get_field("ticket_url").run_validators(value)
            except ValidationError as exc:
                raise RuleError(" ".join(exc.messages), field=field) from None
            clean[field] = value
        elif field == "owner":
            if value is not None and not getattr(value, "is_active", False):
                raise RuleError("Choose an active person.", field=field)
            clean[field] = value
        elif field == "team":
            if value is not None and not isinstance(value, Team):
                raise RuleError("Choose a team.", field=field)
            clean[field] = value
        else:
            raise RuleError(f"'{field}' cannot be set here.", field=field)
    return clean


def _default_team(owner: Any, postmortem: Postmortem | None) -> Team | None:
    if owner is not None:
        team = Team.objects.filter(members=owner).order_by("name").first()
        if team is not None:
            return team
    if postmortem is not None:
        return (
            Team.objects.filter(services__incidents=postmortem.incident_id).order_by("name").first()
        )
    return None


def tell_new_owner(item: ActionItem, by: Any) -> None:
    if item.owner_id is None or item.owner_id == getattr(by, "pk", None):
        return
    notify_user(
        user=item.owner,
        subject=f"Action item for you: {item.title}",
        body=f"{name_of(by)} gave you the action item “{item.title}” "
        f"({item.get_priority_display()}, due {item.due_on:%Y-%m-%d}).",
        topic=f"postmortems.actionitem:{item.pk}",
        link=absolute_url(item.get_absolute_url()),
    )


def _locked_postmortem(postmortem: Postmortem | None) -> Postmortem | None:
    if postmortem is None:
        return None
    return (
        Postmortem.objects.select_for_update(of=("self",))
        .select_related("incident")
        .get(pk=postmortem.pk)
    )


def action_item_create(
    *,
    user: Any,
    postmortem: Postmortem | None,
    data: Mapping[str, Any],
    now: datetime | None = None,
) -> ActionItem:
    """Add an item (to a postmortem, or on its own: a drill's). ``data``: title, kind,
    priority, owner, team, due_on (blank: from the policy), description, ticket_url."""
    clean = _values({k: v for k, v in data.items() if k != "evidence"})
    for needed in ("title", "kind"):
        if not clean.get(needed):
            raise RuleError("Required.", field=needed)
    with transaction.atomic():
        now = now or timezone.now()
        row = _locked_postmortem(postmortem)
        perms.check(perms.may_add_item(user, row), "add action items here")
        if row is not None and row.is_published:
            raise ConflictError(
                "The postmortem is published: re-open it to add action items.", field="postmortem"
            )
        clean.setdefault("priority", ActionItem.Priority.P2)
        if clean.get("due_on") is None:
            clean["due_on"] = default_due_on(clean["priority"], today_utc(now))
        if "team" not in clean or clean["team"] is None:
            clean["team"] = _default_team(clean.get("owner"), row)
        item = ActionItem(postmortem=row, created_by=_person(user), **clean)
        restart_clock(item, now)
        for_history(item, user, "added")
        item.save()
        if row is not None:
            note(
                row,
                f"{name_of(user)} added action item “{item.title}” "
                f"({item.get_kind_display()}, {item.get_priority_display()}, owner "
                f"{name_of(item.owner) if item.owner_id else 'nobody yet'}, due "
                f"{item.due_on:%Y-%m-%d}).",
                user,
                now,
                action_item=item.pk,
            )
        tell_new_owner(item, user)
    return item


def _person(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


def _locked_item(item: ActionItem) -> ActionItem:
    return (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("postmortem__incident", "owner")
        .get(pk=item.pk)
    )


def action_item_update(
    *, item: ActionItem, user: Any, data: Mapping[str, Any], now: datetime | None = None
) -> ActionItem:
    """Change an item's wording (while its postmortem is unpublished) or its progress fields.
    A due date left blank takes the priority's default again."""
    clean = _values(data)
    with transaction.atomic():
        now = now or timezone.now()
        fresh = _locked_item(item)
        perms.check(perms.may_change_item(user, fresh), "change this action item")
        if "due_on" in clean and clean["due_on"] is None:
            priority = clean.get("priority", fresh.priority)
            clean["due_on"] = default_due_on(priority, today_utc(now))
        changed = [f for f, v in clean.items() if getattr(fresh, f) != v]
        if not changed:
            return refresh(item, fresh)
        published = fresh.postmortem_id is not None and fresh.postmortem.is_published
        if published and any(f in WORDING for f in changed):
            raise ConflictError(
                "The postmortem is published: its items' wording is read-only (re-open it); "
                "status, owner, dates and evidence can still change.",
                field=next(f for f in changed if f in WORDING),
            )
        if fresh.status == Status.DONE and "evidence" in changed and not clean["evidence"]:
            raise RuleError("A done item keeps its evidence of completion.", field="evidence")
        old_owner = fresh.owner_id
        for field in changed:
            setattr(fresh, field, clean[field])
        if "due_on" in changed:
            restart_clock(fresh, now)
        labels = ", ".join(f.replace("_", " ") for f in changed)
        for_history(fresh, user, f"edited {labels}")
        fresh.save()
        if fresh.postmortem_id is not None:
            note(
                fresh.postmortem,
                f"{name_of(user)} changed action item “{fresh.title}”: {labels}.",
                user,
                now,
                action_item=fresh.pk,
            )
        if fresh.owner_id != old_owner:
            tell_new_owner(fresh, user)
    return refresh(item, fresh)


def action_item_set_status(
    *,
    item: ActionItem,
    user: Any,
    status: str,
    evidence: str | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> ActionItem:
    """Move an item along: open, in progress, done (with evidence), won't do (with a reason).
    Done or won't do stamps completion and stops reminders; going back re-opens it."""
    status = _choice("status", status, Status)
    reason = text_of("reason", reason, 2000)
    with transaction.atomic():
        now = now or timezone.now()
        fresh = _locked_item(item)
        perms.check(perms.may_change_item(user, fresh), "change this action item")
        old = fresh.status
        if status == old:
            raise ConflictError(f"It is already {fresh.get_status_display().lower()}.", "status")
        if evidence is not None:
            fresh.evidence = text_of("evidence", evidence, 10_000)
        if status == Status.DONE and not fresh.evidence:
            raise RuleError(
                "Document completion with evidence (a link, a change, a dashboard) to mark it "
                "done.",
                field="evidence",
            )
        if status == Status.WONT_DO:
            if not reason:
                raise RuleError("Say why it will not be done.", field="reason")
            fresh.wont_do_reason = reason
        fresh.status = status
        if status in ActionItem.FINISHED:
            fresh.completed_at, fresh.completed_by = now, _person(user)
            fresh.next_reminder_at = None
        else:
            fresh.completed_at = fresh.completed_by = None
            if old in ActionItem.FINISHED:
                restart_clock(fresh, now)
        label = fresh.get_status_display().lower()
        for_history(fresh, user, f"{old} -> {status}")
        fresh.save()
        if fresh.postmortem_id is not None:
            extra = f": {reason}" if status == Status.WONT_DO else ""
            if status == Status.DONE:
                extra = f" (evidence: {fresh.evidence[:200]})"
            note(
                fresh.postmortem,
                f"{name_of(user)} marked action item “{fresh.title}” {label}{extra}.",
                user,
                now,
                action_item=fresh.pk,
                status=status,
            )
    return refresh(item, fresh)


# --- the reminder clock ---------------------------------------------------------------------


def action_reminders_due(*, now: datetime | None = None) -> int:
    """Beat: send the action item reminders that are due; returns how many messages."""
    return send_due_reminders(ActionItem, _remind, now=now)


def _recipient(item: ActionItem) -> Any:
    """The owner; an item nobody owns goes to its postmortem's owner, else its team's manager."""
    for person in (
        item.owner,
        item.postmortem.owner if item.postmortem_id else None,
        item.team.manager if item.team_id else None,
    ):
        if person is not None and person.is_active:
            return person
    return None


def _remind(pk: int, now: datetime) -> int:
    with transaction.atomic():
        item = (
            ActionItem.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("owner", "postmortem__owner", "postmortem__incident", "team__manager")
            .filter(pk=pk, next_reminder_at__lte=now)
            .first()
        )
        if item is None:  # another tick holds it, or did it already
            return 0
        sent = 0
        today = today_utc(now)
        if item.is_finished:
            item.next_reminder_at = None
        else:
            if item.reminded_for != item.due_on:
                if today <= item.due_on:
                    sent += _tell(item, "due-soon", _due_soon(item, today))
                item.reminded_for = item.due_on
            if today > item.due_on:
                periods = int((now - _midnight(item.due_on + timedelta(days=1))) / OVERDUE_EVERY)
                periods += 1
                if item.overdue_notices < periods:
                    sent += _tell(item, f"overdue:{periods - 1}", _overdue(item, today))
                    item.overdue_notices = periods
            item.next_reminder_at = plan(item)
        item.save(update_fields=["reminded_for", "overdue_notices", "next_reminder_at"])
    return sent


def _about(item: ActionItem) -> str:
    if item.postmortem_id:
        return f" (from the postmortem of {item.postmortem.incident.reference})"
    return ""


def _due_soon(item: ActionItem, today: date) -> tuple[str, str]:
    days = (item.due_on - today).days
    when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
    return (
        f"Action item due {when}: {item.title}",
        f"“{item.title}”{_about(item)} is due {item.due_on:%Y-%m-%d} ({when}) and is "
        f"{item.get_status_display().lower()}. Mark it done with its evidence, or say why not.",
    )


def _overdue(item: ActionItem, today: date) -> tuple[str, str]:
    days = (today - item.due_on).days
    return (
        f"Action item overdue: {item.title}",
        f"“{item.title}”{_about(item)} was due {item.due_on:%Y-%m-%d} ({days} days ago) and is "
        f"{item.get_status_display().lower()}.",
    )


def _tell(item: ActionItem, what: str, message: tuple[str, str]) -> int:
    person = _recipient(item)
    if person is None:
        logger.warning("Action item %s has nobody to remind", item.pk)
        return 0
    subject, body = message
    notify_user(
        user=person,
        subject=subject,
        body=body,
        topic=f"postmortems.actionitem:{item.pk}",
        dedupe_key=f"actionitem:{item.pk}:{item.due_on:%Y%m%d}:{what}",
        link=absolute_url(item.get_absolute_url()),
    )
    return 1
