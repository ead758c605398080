"""Ending a drill: the assessment (times against targets, what went well, what to improve,
action items), or a cancellation with its reason."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction

from incidents.models import Incident
from incidents.services import incident_set_status
from ircore.errors import ConflictError, RuleError
from ircore.models import Team

from ...models import ActionItem, Drill
from ...models.drills import incident_times
from ..actions import restart_clock, tell_new_owner
from ._base import (
    ACTUALS,
    TEXT_LIMIT,
    Status,
    _duration,
    _entry,
    _locked,
    _mark,
    _name,
    _now,
    _shown,
    _text,
)
from .run import resolve_alert


@dataclass(frozen=True)
class ActionItemDraft:
    """An action item the assessment records ("Improvement - Owner - Due date")."""

    title: str
    kind: str
    due_on: date
    owner: Any = None
    priority: str = ActionItem.Priority.P2
    team: Team | None = None


def _action_item(draft: ActionItemDraft, index: int) -> ActionItem:
    field = f"action_items[{index}]"
    limit = ActionItem._meta.get_field("title").max_length
    title = _text(f"{field}.title", draft.title, limit, required="Give the action item a title.")
    if draft.kind not in ActionItem.Kind.values:
        raise RuleError(
            f"Choose a type ({', '.join(ActionItem.Kind.values)}).", field=f"{field}.kind"
        )
    if draft.priority not in ActionItem.Priority.values:
        raise RuleError("Choose a priority.", field=f"{field}.priority")
    if not isinstance(draft.due_on, date) or isinstance(draft.due_on, datetime):
        raise RuleError("Give a due date.", field=f"{field}.due_on")
    if draft.owner is not None and not draft.owner.is_active:
        raise RuleError(f"{_name(draft.owner)} is not an active user.", field=f"{field}.owner")
    return ActionItem(
        title=title,
        kind=draft.kind,
        due_on=draft.due_on,
        owner=draft.owner,
        priority=draft.priority,
        team=draft.team,
    )


def drill_add_action_items(
    *, drill: Drill, drafts: Any, user: Any, now: datetime | None = None
) -> list[ActionItem]:
    """Record the drill's action items (chased like a postmortem's) and link them to it."""
    items = [_action_item(draft, i) for i, draft in enumerate(drafts)]
    if not items:
        return []
    with transaction.atomic():
        locked = _locked(drill)
        now = _now(now)
        for item in items:
            # Chased like a postmortem's: the reminder clock starts, the owner is told.
            item.created_by = user if getattr(user, "pk", None) else None
            restart_clock(item, now)
            _mark(item, user, f"drill: {locked.title}").save()
            tell_new_owner(item, user)
        _mark(locked, user, "action items").action_items.add(*items)
        titles = "; ".join(i.title for i in items)
        _entry(locked, f"action items: {titles}", user, now, "action_items")
    return items


def drill_complete(
    *,
    drill: Drill,
    user: Any,
    went_well: str = "",
    to_improve: str = "",
    process_updates: str = "",
    communication_score: int | None = None,
    actuals: dict[str, timedelta | None] | None = None,
    action_items: Any = (),
    now: datetime | None = None,
) -> Drill:
    """End a running drill with its assessment. A drill with an incident takes its actual
    times from it (resolved first: its resolution time is the drill's); one without records
    them in ``actuals`` (``detect_actual``, ``ack_actual``, ``resolve_actual``)."""
    went_well = _text("went_well", went_well, TEXT_LIMIT)
    to_improve = _text("to_improve", to_improve, TEXT_LIMIT)
    process_updates = _text("process_updates", process_updates, TEXT_LIMIT)
    if communication_score is not None and (
        isinstance(communication_score, bool)
        or not isinstance(communication_score, int)
        or not 1 <= communication_score <= 5
    ):
        raise RuleError("Score communication from 1 to 5.", field="communication_score")
    given = dict(actuals or {})
    for name in given:
        if name not in ACTUALS:
            raise RuleError(f"'{name}' is not an actual time.", field=name)
        given[name] = _duration(name, given[name])
    drafts = list(action_items)
    for i, draft in enumerate(drafts):
        _action_item(draft, i)  # refuse a bad one before anything is written
    with transaction.atomic():
        locked = _locked(drill)
        now = _now(now)
        if locked.status != Status.RUNNING:
            raise ConflictError(
                f"The drill is {locked.get_status_display().lower()}; only a running drill "
                "is completed.",
                field="status",
            )
        if locked.incident_id is not None:
            incident = Incident.objects.get(pk=locked.incident_id)
            if incident.resolved_at is None:
                raise RuleError(
                    f"Resolve the drill incident {incident.reference} first: its resolution "
                    "time is the drill's.",
                    field="status",
                )
            taken = [name for name, value in given.items() if value is not None]
            if taken:
                raise RuleError(
                    f"The drill's times come from its incident {incident.reference}.",
                    field=taken[0],
                )
            given = incident_times(incident)
        for name in ACTUALS:
            setattr(locked, name, given.get(name))
        locked.went_well, locked.to_improve = went_well, to_improve
        locked.process_updates, locked.communication_score = process_updates, communication_score
        locked.status, locked.ended_at = Status.DONE, now
        locked.ended_by = user if getattr(user, "pk", None) else None
        _mark(locked, user, "completed").save()
        lines = [
            f"{m.name} {_shown(m.actual)} vs {_shown(m.target)}"
            + ("" if m.met is None else (" (met)" if m.met else " (missed)"))
            for m in locked.measures()
        ]
        _entry(locked, "assessment recorded: " + "; ".join(lines) + ".", user, now, "completed")
        if drafts:
            drill_add_action_items(drill=locked, drafts=drafts, user=user, now=now)
        resolve_alert(locked, now)
    drill.refresh_from_db()
    return locked


def drill_cancel(*, drill: Drill, user: Any, reason: str, now: datetime | None = None) -> Drill:
    """Call off a scheduled or running drill, with a reason. A running game day's incident is
    resolved (its paging stops) and its alert resolved."""
    limit = Drill._meta.get_field("cancel_reason").max_length
    reason = _text("cancel_reason", reason, limit, required="Say why the drill is cancelled.")
    with transaction.atomic():
        locked = _locked(drill)
        now = _now(now)
        if not locked.is_open:
            raise ConflictError(
                f"The drill is {locked.get_status_display().lower()} already.", field="status"
            )
        locked.status, locked.ended_at, locked.cancel_reason = Status.CANCELLED, now, reason
        locked.ended_by = user if getattr(user, "pk", None) else None
        _mark(locked, user, "cancelled").save()
        if locked.incident_id is not None:
            _entry(locked, f"cancelled by {_name(user)}: {reason}", user, now, "cancelled")
            incident = Incident.objects.get(pk=locked.incident_id)
            if incident.is_open:
                incident_set_status(
                    incident=incident,
                    status=Incident.Status.RESOLVED,
                    user=user,
                    note=f"drill cancelled: {reason}",
                    now=now,
                )
            resolve_alert(locked, now)
    drill.refresh_from_db()
    return locked
