"""The postmortem deadline clock: remind the owner before the deadline, tell them once per
day while it is overdue, and tell their manager once it is overdue by more than a day.

Level-triggered and idempotent (DESIGN.md, "The clock"):

1. Every unpublished postmortem stores ``next_reminder_at``, the next moment the clock has
   something to say about it (``plan``); every verb that moves the deadline re-plans it.
2. A tick reads the rows due from that indexed column (its cost grows with what is due, not
   with history), claims each with ``select_for_update(skip_locked=True)`` (a second beat
   skips it), re-reads the state and sends what is due by now, once: after an outage the
   overdue days missed are one notice (the latest), and a "due soon" reminder whose moment
   passed with the deadline is not sent late.
3. What was sent is stamped on the row (``reminded_for``, ``overdue_notices``,
   ``manager_told_at``, all for the current deadline) and every message carries a dedupe key
   naming the postmortem, the deadline and the period, so two ticks never send one twice.
"""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction

from ircore.links import absolute_url
from ircore.models import Team
from ircore.notifications import notify_user

from ..models import Postmortem
from .postmortem_base import send_due_reminders
from .postmortems import name_of, note, utc

logger = logging.getLogger(__name__)

# Remind this long before the deadline, but never before half the time allowed has gone
# (a 24 h deadline reminds after 12 h, not at once).
REMIND_BEFORE = timedelta(hours=24)
# While overdue, one notice per period.
OVERDUE_EVERY = timedelta(days=1)
# Overdue by this much: the owner's manager hears of it (once per deadline).
TELL_MANAGER_AFTER = timedelta(days=1)


def remind_at(row: Postmortem) -> datetime | None:
    if row.due_at is None:
        return None
    before = min(REMIND_BEFORE, max(row.due_at - row.opened_at, timedelta(0)) / 2)
    return row.due_at - before


def plan(row: Postmortem) -> datetime | None:
    """When the clock next has something to do for ``row`` (None: nothing, ever)."""
    if row.is_published or row.due_at is None:
        return None
    due = row.due_at
    moments = [due + row.overdue_notices * OVERDUE_EVERY]
    if row.reminded_for != due:
        moments.append(remind_at(row))
    if row.manager_told_at is None:
        moments.append(due + TELL_MANAGER_AFTER)
    return min(moments)


def manager_of(row: Postmortem) -> Any:
    """The owner's manager: the manager of the owner's team (one that owns an affected
    service first), else of an affected service's team; never the owner themselves."""
    owner_id = row.owner_id
    service_teams = list(
        Team.objects.filter(services__incidents=row.incident_id, manager__isnull=False)
        .select_related("manager")
        .order_by("name")
        .distinct()
    )
    own = []
    if owner_id is not None:
        own = list(
            Team.objects.filter(members=owner_id, manager__isnull=False)
            .select_related("manager")
            .order_by("name")
        )
    service_ids = {t.pk for t in service_teams}
    ranked = [t for t in own if t.pk in service_ids] + own + service_teams
    for team in ranked:
        if team.manager_id != owner_id and team.manager.is_active:
            return team.manager
    return None


def postmortem_reminders_due(*, now: datetime | None = None) -> int:
    """Beat: send the postmortem reminders that are due; returns how many messages."""
    return send_due_reminders(Postmortem, _remind, now=now)


def _remind(pk: int, now: datetime) -> int:
    with transaction.atomic():
        row = (
            Postmortem.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("incident", "owner")
            .filter(pk=pk, next_reminder_at__lte=now)
            .first()
        )
        if row is None:  # another tick holds it, or did it already
            return 0
        sent = 0
        due = row.due_at
        if row.is_published or due is None:
            row.next_reminder_at = None
            row.save(update_fields=["next_reminder_at"])
            return 0
        if row.reminded_for != due and now >= remind_at(row):
            if now < due:
                sent += _tell_owner(row, "due-soon", _due_soon(row))
            row.reminded_for = due  # past the deadline already: the overdue notice says it
        if now >= due:
            periods = int((now - due) / OVERDUE_EVERY) + 1
            if row.overdue_notices < periods:
                sent += _tell_owner(row, f"overdue:{periods - 1}", _overdue(row, now))
                row.overdue_notices = periods
            if row.manager_told_at is None and now - due >= TELL_MANAGER_AFTER:
                sent += _tell_manager(row, now)
                row.manager_told_at = now
        row.next_reminder_at = plan(row)
        row.save(
            update_fields=["reminded_for", "overdue_notices", "manager_told_at", "next_reminder_at"]
        )
    return sent


def _key(row: Postmortem, what: str) -> str:
    return f"postmortem:{row.pk}:{row.due_at.astimezone(UTC):%Y%m%dT%H%M%S}:{what}"


def _link(row: Postmortem) -> str:
    return absolute_url(row.get_absolute_url())


def _due_soon(row: Postmortem) -> tuple[str, str]:
    return (
        f"Postmortem of {row.incident.reference} due {utc(row.due_at)}",
        f"The postmortem of {row.incident} is due {utc(row.due_at)} and is "
        f"{row.get_status_display().lower()}. Write it blamelessly, then send it for review.",
    )


def _overdue(row: Postmortem, now: datetime) -> tuple[str, str]:
    late = now - row.due_at
    return (
        f"Postmortem of {row.incident.reference} is overdue",
        f"The postmortem of {row.incident} was due {utc(row.due_at)} ({_spoken(late)} ago) "
        f"and is {row.get_status_display().lower()}.",
    )


def _spoken(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h"


def _tell_owner(row: Postmortem, what: str, message: tuple[str, str]) -> int:
    """To the owner; with no owner, to the manager (who should find one)."""
    person = row.owner if row.owner_id and row.owner.is_active else manager_of(row)
    if person is None:
        logger.warning("Postmortem %s has no owner and no manager to remind", row.pk)
        return 0
    subject, body = message
    notify_user(
        user=person,
        subject=subject,
        body=body,
        topic=f"postmortems.postmortem:{row.pk}",
        dedupe_key=_key(row, what),
        link=_link(row),
    )
    return 1


def _tell_manager(row: Postmortem, now: datetime) -> int:
    manager = manager_of(row)
    if manager is None:
        note(row, "The postmortem is overdue by more than a day; no manager to tell.", None, now)
        return 0
    owner = name_of(row.owner) if row.owner_id else "nobody"
    notify_user(
        user=manager,
        subject=f"Postmortem of {row.incident.reference} overdue by more than a day",
        body=f"The postmortem of {row.incident}, owned by {owner}, was due {utc(row.due_at)} "
        f"and is {row.get_status_display().lower()}.",
        topic=f"postmortems.postmortem:{row.pk}",
        dedupe_key=_key(row, "manager"),
        link=_link(row),
    )
    note(
        row,
        f"The postmortem is overdue by more than a day: told {name_of(manager)} (manager).",
        None,
        now,
    )
    return 1
