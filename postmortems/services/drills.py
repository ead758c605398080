"""The drill verbs: schedule, edit, start (a tabletop or a chaos experiment), run (a game day),
complete with the assessment, cancel. Each runs in one transaction on the locked drill row,
checks its rule (a ``RuleError`` naming the field rolls everything back), and writes history
and, when the drill has an incident, its timeline.

Running a game day, step by step:

1. A synthetic alert, shaped as the integration's kind posts it (Alertmanager, PagerDuty
   Events v2, generic), is parsed by that integration's own parser and stored by
   ``ingest(drill=True)``: the path a monitor's alert takes, marked as a drill (the alert,
   the incident it declares and every timeline entry say so).
2. The routing must declare one new drill incident; if the alert joined another drill's
   open incident, fell in a maintenance window or routed to no service, the run is refused
   and nothing is kept.
3. Each participant takes the Subject Matter Expert role on the drill incident: the
   escalation engine pages a drill's role holders only (``oncall.services.engine.targets``),
   so the participants are who its steps may page, and nobody else.
4. After commit, the declaration starts the escalation and the engine pages (a drill's pages
   say DRILL); the participants acknowledge and resolve the incident as in a real one, and
   ``drill_complete`` takes its times for the assessment.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from incidents.alerts.models import Integration
from incidents.alerts.services import PayloadError, ingest, parse
from incidents.models import Incident, RoleAssignment, TimelineEntry
from incidents.services import incident_set_status, role_assign, timeline_add
from ircore.errors import ConflictError, RuleError
from ircore.models import Service, Team
from ircore.policy import format_duration

from ..models import ActionItem, Drill, DrillPlan
from ..models.drills import incident_times

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


# --- checks the verbs share ------------------------------------------------------------------


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


# --- schedule and edit -----------------------------------------------------------------------


def quarter_of(when: datetime) -> int:
    return (when.astimezone(UTC).month - 1) // 3 + 1


def plan_defaults(kind: str, when: datetime) -> dict[str, Any]:
    """What the kind's plan gives a drill scheduled ``when``: its targets, and the scenario of
    that quarter (empty when the policy has no plan or no scenario for it)."""
    plan = DrillPlan.objects.filter(kind=kind).prefetch_related("scenarios").first()
    if plan is None:
        return {"scenario": "", **dict.fromkeys(TARGETS)}
    quarter = quarter_of(when)
    scenario = next((s.scenario for s in plan.scenarios.all() if s.quarter == quarter), "")
    return {"scenario": scenario, **{name: getattr(plan, name) for name in TARGETS}}


def default_title(kind: str, when: datetime, scenario: str) -> str:
    """003_*'s document names: "Game day 2026-Q1", "Tabletop 2026-02", with the scenario."""
    local = when.astimezone(UTC)
    period = f"{local:%Y}-Q{quarter_of(when)}" if kind == Drill.Kind.GAME_DAY else f"{local:%Y-%m}"
    title = f"{Drill.Kind(kind).label} {period}: {scenario}"
    limit = Drill._meta.get_field("title").max_length
    return title if len(title) <= limit else title[: limit - 1] + "…"


def drill_schedule(
    *,
    kind: str,
    scheduled_for: datetime,
    user: Any,
    title: str = "",
    scenario: str = "",
    participants: Any = (),
    service: Service | None = None,
    integration: Integration | None = None,
    alert_severity: str = Drill.AlertSeverity.CRITICAL,
    targets: dict[str, timedelta | None] | None = None,
) -> Drill:
    """Schedule a drill. Targets and, when none is given, the scenario come from the kind's
    plan in the policy (``plan_defaults``); ``targets`` overrides any of them (None: no
    target). A game day names the service under test and the integration to go through."""
    if kind not in Drill.Kind.values:
        raise RuleError(f"'{kind}' is not a kind of drill.", field="kind")
    scheduled_for = _aware("scheduled_for", scheduled_for)
    if alert_severity not in Drill.AlertSeverity.values:
        raise RuleError(f"'{alert_severity}' is not an alert severity.", field="alert_severity")
    _check_kind_fields(kind, service, integration)
    defaults = plan_defaults(kind, scheduled_for)
    scenario = _text("scenario", scenario, TEXT_LIMIT) or defaults["scenario"]
    if not scenario:
        raise RuleError(
            "Describe the scenario (the policy has none for this kind and quarter).",
            field="scenario",
        )
    limit = Drill._meta.get_field("title").max_length
    title = _text("title", title, limit) or default_title(kind, scheduled_for, scenario)
    values = {name: defaults[name] for name in TARGETS}
    for name, value in (targets or {}).items():
        if name not in TARGETS:
            raise RuleError(f"'{name}' is not a target.", field=name)
        values[name] = _duration(name, value)
    people = _people(participants)
    with transaction.atomic():
        drill = Drill(
            title=title,
            kind=kind,
            scenario=scenario,
            scheduled_for=scheduled_for,
            service=service,
            integration=integration,
            alert_severity=alert_severity,
            created_by=user if getattr(user, "pk", None) else None,
            **values,
        )
        _mark(drill, user, "scheduled").save()
        drill.participants.set(people)
    return drill


def drill_update(*, drill: Drill, user: Any, participants: Any = None, **changes: Any) -> Drill:
    """Change a scheduled drill (what ``EDITABLE`` lists, and its participants). Once it has
    run, its plan is the record of what was asked: only the assessment changes it."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        name = sorted(unknown)[0]
        raise RuleError(f"'{name}' cannot be changed here.", field=name)
    with transaction.atomic():
        locked = _locked(drill)
        if locked.status != Status.SCHEDULED:
            raise ConflictError(
                f"The drill is {locked.get_status_display().lower()}; only a scheduled drill "
                "can be changed.",
                field="status",
            )
        values = {name: getattr(locked, name) for name in EDITABLE}
        values.update(changes)
        if "title" in changes:
            limit = Drill._meta.get_field("title").max_length
            values["title"] = _text("title", changes["title"], limit, required="Give a title.")
        if "scenario" in changes:
            values["scenario"] = _text(
                "scenario", changes["scenario"], TEXT_LIMIT, required="Describe the scenario."
            )
        values["scheduled_for"] = _aware("scheduled_for", values["scheduled_for"])
        if values["alert_severity"] not in Drill.AlertSeverity.values:
            raise RuleError("Choose an alert severity.", field="alert_severity")
        for name in TARGETS:
            values[name] = _duration(name, values[name])
        _check_kind_fields(locked.kind, values["service"], values["integration"])
        for name, value in values.items():
            setattr(locked, name, value)
        _mark(locked, user, "changed").save()
        if participants is not None:
            locked.participants.set(_people(participants))
    drill.refresh_from_db()
    return locked


# --- start and run ---------------------------------------------------------------------------


def _check_startable(drill: Drill) -> None:
    if drill.status != Status.SCHEDULED:
        raise ConflictError(
            f"The drill is {drill.get_status_display().lower()}; only a scheduled drill starts.",
            field="status",
        )


def drill_start(*, drill: Drill, user: Any, now: datetime | None = None) -> Drill:
    """Start a tabletop or a chaos experiment (a game day is run: ``drill_run``)."""
    with transaction.atomic():
        locked = _locked(drill)
        now = _now(now)
        _check_startable(locked)
        if locked.kind == Drill.Kind.GAME_DAY:
            raise RuleError("A game day is run (its synthetic alert is the start).", field="kind")
        locked.status, locked.started_at = Status.RUNNING, now
        locked.started_by = user if getattr(user, "pk", None) else None
        _mark(locked, user, "started").save()
    drill.refresh_from_db()
    return locked


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def synthetic_payload(drill: Drill, *, action: str, starts_at: datetime) -> Any:
    """The drill's alert as a monitor of the integration's kind would post it: ``action`` is
    "trigger" or "resolve"; the dedup key is the drill's own, so the resolve closes it."""
    key = f"drill-{drill.pk}"
    summary = f"Drill: {drill.title}"
    labels = {
        "alertname": "Drill",
        "service": drill.service.slug,
        "severity": drill.alert_severity,
        "drill": str(drill.pk),
    }
    kind = drill.integration.kind
    firing = action == "trigger"
    if kind == Integration.Kind.EVENTS:
        if not firing:
            return {"event_action": "resolve", "dedup_key": key}
        return {
            "event_action": "trigger",
            "dedup_key": key,
            "payload": {
                "summary": summary,
                "source": "incident-response drill",
                "severity": drill.alert_severity,
                "timestamp": _iso(starts_at),
                "custom_details": labels,
            },
        }
    if kind == Integration.Kind.GENERIC:
        return {
            "title": summary,
            "dedup_key": key,
            "status": "firing" if firing else "resolved",
            "severity": drill.alert_severity,
            "labels": labels,
            "description": drill.scenario,
            "started_at": _iso(starts_at),
        }
    status = "firing" if firing else "resolved"
    return {
        "version": "4",
        "status": status,
        "receiver": "drill",
        "groupKey": f"drill:{drill.pk}",
        "truncatedAlerts": 0,
        "groupLabels": {"alertname": "Drill"},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": summary, "description": drill.scenario},
                "startsAt": _iso(starts_at),
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": key,
            }
        ],
    }


def _deliver(drill: Drill, *, action: str, starts_at: datetime, now: datetime):
    """Through the integration's parser and ``ingest(drill=True)``, as its endpoint would."""
    payload = synthetic_payload(drill, action=action, starts_at=starts_at)
    try:
        alerts = parse(drill.integration.kind, payload)
    except PayloadError as exc:  # a title the parser refuses (too long, say)
        raise RuleError(f"The synthetic alert is refused: {exc}", field="title") from None
    return ingest(integration=drill.integration, alerts=alerts, now=now, drill=True)


def _declared_incident(drill: Drill, result) -> Incident:
    """The one drill incident the alert declared, or why there is none (step 2)."""
    if len(result.declared) == 1:
        return result.declared[0]
    integration, service = drill.integration, drill.service
    if result.attached:
        (incident_id,) = result.attached
        reference = Incident.objects.get(pk=incident_id).reference
        raise ConflictError(
            f"The synthetic alert joined {reference}, another drill's incident on {service} "
            "still open: resolve it first.",
            field="service",
        )
    if result.suppressed:
        raise RuleError(
            f"A maintenance window on {service} holds its alerts now: the game day would "
            "page nobody.",
            field="service",
        )
    raise RuleError(
        f"Integration {integration} routed the synthetic alert (labels service={service.slug}, "
        f"severity={drill.alert_severity}) to no service: give it a routing rule or a "
        "default service.",
        field="integration",
    )


def drill_run(
    *,
    drill: Drill,
    user: Any,
    now: datetime | None = None,
    fault_started_at: datetime | None = None,
) -> Drill:
    """Run a game day (see the module docstring). ``fault_started_at`` is when the fault the
    alert reports began (the alert's start, so the drill's detection time); default: now."""
    with transaction.atomic():
        locked = _locked(drill)
        now = _now(now)
        _check_startable(locked)
        if locked.kind != Drill.Kind.GAME_DAY:
            raise RuleError("Only a game day is run; start the others.", field="kind")
        _check_kind_fields(locked.kind, locked.service, locked.integration)
        integration = Integration.objects.get(pk=locked.integration_id)
        if not integration.enabled:
            raise RuleError(
                f"Integration {integration} is disabled: a game day goes through a working one.",
                field="integration",
            )
        people = [p for p in locked.participants.order_by("username") if p.is_active]
        if not people:
            raise RuleError("A game day needs participants to page.", field="participants")
        started = now if fault_started_at is None else _aware("fault_started_at", fault_started_at)
        if not now - MAX_FAULT_AGE <= started <= now:
            raise RuleError(
                "The fault started between a day ago and now.", field="fault_started_at"
            )
        locked.integration = integration
        incident = _declared_incident(
            locked, _deliver(locked, action="trigger", starts_at=started, now=now)
        )
        for person in people:
            role_assign(
                incident=incident, role=RoleAssignment.Role.SME, user=person, by=user, now=now
            )
        locked.incident, locked.status = incident, Status.RUNNING
        locked.started_at, locked.started_by = now, user if getattr(user, "pk", None) else None
        _mark(locked, user, "run").save()
        names = ", ".join(_name(p) for p in people)
        _entry(
            locked,
            f"game day “{locked.title}” run by {_name(user)} through integration "
            f"{integration}; participants (Subject Matter Experts, the people this drill may "
            f"page): {names}. Targets: detection {_shown(locked.detect_target)}, "
            f"acknowledgement {_shown(locked.ack_target)}, resolution "
            f"{_shown(locked.resolve_target)}.",
            user,
            now,
            "run",
            participants=[p.get_username() for p in people],
        )
    drill.refresh_from_db()
    return locked


# --- complete and cancel ---------------------------------------------------------------------


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
            _mark(item, user, f"drill: {locked.title}").save()
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
        _resolve_alert(locked, now)
    drill.refresh_from_db()
    return locked


def _resolve_alert(drill: Drill, now: datetime) -> None:
    """The synthetic alert stops firing when the drill ends (as the monitor's would)."""
    if drill.incident_id is None or drill.integration_id is None:
        return
    incident = Incident.objects.only("impact_started_at", "detected_at").get(pk=drill.incident_id)
    _deliver(drill, action="resolve", starts_at=incident.impact_started_at or now, now=now)


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
            _resolve_alert(locked, now)
    drill.refresh_from_db()
    return locked
