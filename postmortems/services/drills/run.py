"""Starting a drill: a tabletop or a chaos experiment starts; a game day runs, its synthetic
alert going through the integration (the steps: ``postmortems.services.drills``)."""

from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from incidents.alerts.models import Integration
from incidents.alerts.services import PayloadError, ingest, parse
from incidents.models import Incident, RoleAssignment
from incidents.services import role_assign
from ircore.errors import ConflictError, RuleError

from ...models import Drill
from ._base import (
    MAX_FAULT_AGE,
    Status,
    _aware,
    _check_kind_fields,
    _entry,
    _locked,
    _mark,
    _name,
    _now,
    _shown,
)


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


def resolve_alert(drill: Drill, now: datetime) -> None:
    """The synthetic alert stops firing when the drill ends (as the monitor's would)."""
    if drill.incident_id is None or drill.integration_id is None:
        return
    incident = Incident.objects.only("impact_started_at", "detected_at").get(pk=drill.incident_id)
    _deliver(drill, action="resolve", starts_at=incident.impact_started_at or now, now=now)
