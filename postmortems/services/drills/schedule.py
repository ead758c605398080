"""Scheduling a drill from its kind's plan, and changing it while it is scheduled."""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction

from incidents.alerts.models import Integration
from ircore.errors import ConflictError, RuleError
from ircore.models import Service

from ...models import Drill, DrillPlan
from ._base import (
    EDITABLE,
    TARGETS,
    TEXT_LIMIT,
    Status,
    _aware,
    _check_kind_fields,
    _duration,
    _locked,
    _mark,
    _people,
    _text,
)


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
