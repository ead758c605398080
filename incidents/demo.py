"""Demo incidents and alerts for a first run, loaded by ``manage.py bootstrap`` through
``IncidentsConfig.load_demo``: made through the incident and detection services so their
timelines, checklists and history are real.

Detection: a "Demo Alertmanager" integration routing by the ``service`` label; its first
alert declared the open incident (through ``ingest``, as a monitor's post would), fired again
(repeats), a second alert joined the incident and resolved, and an alert on Settlement fell
in a maintenance window (recorded, declared nothing). The integration's token was never
shown: rotate one on its admin page to post to it.
"""

from datetime import UTC, datetime, timedelta

from ircore.models import Severity

from . import services as incidents
from .alerts.models import Integration, RoutingRule
from .alerts.services import ingest, integration_create, maintenance_window_create, parse
from .models import Incident, IncidentService, RoleAssignment, TimelineEntry

DEMO_INTEGRATION = "Demo Alertmanager"
PROMETHEUS = "http://prometheus.demo.example:9090/graph?g0.expr="


def _alert(name: str, service: str, severity: str, summary: str, starts: datetime, **extra) -> dict:
    """One alert as Alertmanager's webhook (version 4) carries it."""
    status = extra.pop("status", "firing")
    ends = extra.pop("ends", None)
    return {
        "status": status,
        "labels": {"alertname": name, "service": service, "severity": severity, "env": "prod"},
        "annotations": {"summary": summary, **extra},
        "startsAt": starts.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "endsAt": ends.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if ends
        else "0001-01-01T00:00:00Z",
        "generatorURL": PROMETHEUS + name,
        "fingerprint": f"demo-{name.lower()}",
    }


def _post(integration: Integration, *alerts: dict, now: datetime):
    """A delivery from Alertmanager, through the ingestion service the endpoint uses."""
    body = {
        "version": "4",
        "status": alerts[0]["status"],
        "receiver": "incident-response",
        "groupKey": "{}:{service=" + f'"{alerts[0]["labels"]["service"]}"' + "}",
        "truncatedAlerts": 0,
        "groupLabels": {"service": alerts[0]["labels"]["service"]},
        "commonLabels": {"env": "prod"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.demo.example:9093",
        "alerts": list(alerts),
    }
    return ingest(integration=integration, alerts=parse("alertmanager", body), now=now)


def _integration(*, services: dict, user) -> Integration:
    integration, _token = integration_create(
        name=DEMO_INTEGRATION, kind=Integration.Kind.ALERTMANAGER, user=user
    )
    for position, slug in enumerate(
        ("payments-api", "settlement", "merchant-dashboard", "webhooks"), start=1
    ):
        if slug in services:
            RoutingRule.objects.create(
                integration=integration,
                position=position,
                label="service",
                value=slug,
                service=services[slug],
            )
    return integration


def load_demo(*, people: dict, services: dict, now: datetime) -> dict[str, int]:
    """One resolved incident from a few days ago and one open one being investigated, made
    through the incident services so their timelines, checklists and history are real."""
    # By rank, so the demo fits whatever the policy calls its levels (SEV-2, P1 ...).
    levels = list(Severity.objects.order_by("rank")[:3])
    if len(levels) < 3:
        return {"incidents": 0}
    third = levels[2]
    maria, raj, dana = people["maria"], people["raj"], people["dana"]
    Role, Kind, Status = RoleAssignment.Role, TimelineEntry.Kind, Incident.Status

    # A few days ago: slow dashboard reports, found and fixed in under two hours.
    t0 = now - timedelta(days=3, hours=4)
    old = incidents.incident_declare(
        title="Merchant Dashboard reports slow to load",
        severity=third,
        services=[services["merchant-dashboard"]],
        summary="Report pages took 30 s or more for large merchants.",
        detected_at=t0 - timedelta(minutes=6),
        impact_started_at=t0 - timedelta(minutes=20),
        user=dana,
        now=t0,
    )
    incidents.incident_acknowledge(incident=old, user=raj, now=t0 + timedelta(minutes=4))
    incidents.role_assign(
        incident=old,
        role=Role.INCIDENT_COMMANDER,
        user=raj,
        by=maria,
        now=t0 + timedelta(minutes=5),
    )
    incidents.note_add(
        incident=old,
        kind=Kind.HYPOTHESIS,
        text="Yesterday's migration dropped the index on report_rows(merchant_id).",
        user=dana,
        occurred_at=t0 + timedelta(minutes=25),
    )
    incidents.incident_set_status(
        incident=old, status=Status.IDENTIFIED, user=raj, now=t0 + timedelta(minutes=30)
    )
    incidents.incident_set_status(
        incident=old,
        status=Status.RESOLVED,
        user=raj,
        note="Index rebuilt; report pages back under 2 s.",
        now=t0 + timedelta(minutes=95),
    )

    # Now: card payments failing for some merchants, declared by Alertmanager's alert (its
    # severity label "error" picks the second level), being investigated.
    t1 = now - timedelta(minutes=20)
    monitor = _integration(services=services, user=maria)
    errors = _alert(
        "CardAuthErrorRate",
        "payments-api",
        "error",
        "Card payments failing for some merchants",
        t1 - timedelta(minutes=12),
        description="About 8% of card authorisations return errors; webhooks are delayed.",
        runbook_url="https://runbooks.demo.example/card-auth-errors",
    )
    (open_,) = _post(monitor, errors, now=t1).declared
    # Alertmanager re-sends the firing alert on its repeat interval: counted, not new.
    for minutes in (1, 2):
        _post(monitor, errors, now=t1 + timedelta(minutes=minutes))
    incidents.affected_service_set(
        incident=open_,
        service=services["webhooks"],
        status=IncidentService.Status.DEGRADED,
        user=raj,
        now=t1 + timedelta(minutes=1),
    )
    incidents.incident_acknowledge(incident=open_, user=raj, now=t1 + timedelta(minutes=2))
    incidents.role_assign(
        incident=open_,
        role=Role.INCIDENT_COMMANDER,
        user=maria,
        by=maria,
        now=t1 + timedelta(minutes=3),
    )
    incidents.role_assign(
        incident=open_, role=Role.TECH_LEAD, user=raj, by=maria, now=t1 + timedelta(minutes=3)
    )
    incidents.incident_set_status(
        incident=open_,
        status=Status.INVESTIGATING,
        user=maria,
        note="Bridge open in #payments.",
        now=t1 + timedelta(minutes=4),
    )
    for minutes, kind, author, text in (
        (6, Kind.HYPOTHESIS, raj, "Errors began with the card gateway deploy (v2.32)."),
        (9, Kind.ACTION, raj, "Rolling the card gateway back to v2.31."),
        (12, Kind.NOTE, maria, "Support has a holding statement ready for merchants."),
    ):
        incidents.note_add(
            incident=open_,
            kind=kind,
            text=text,
            user=author,
            occurred_at=t1 + timedelta(minutes=minutes),
        )
    # A second alert of the same service joins the incident, and later resolves.
    latency = _alert(
        "CardGatewayLatencyHigh",
        "payments-api",
        "warning",
        "Card gateway p95 latency over 1 s",
        t1 + timedelta(minutes=3),
    )
    _post(monitor, latency, now=t1 + timedelta(minutes=5))
    resolved = {**latency, "status": "resolved"}
    resolved["endsAt"] = (t1 + timedelta(minutes=13)).astimezone(UTC).isoformat()
    _post(monitor, resolved, now=t1 + timedelta(minutes=14))

    # Planned work on Settlement: its alert is recorded and declares nothing.
    settlement = services.get("settlement")
    windows = 0
    if settlement is not None:
        maintenance_window_create(
            service=settlement,
            start=now - timedelta(minutes=30),
            end=now + timedelta(hours=1, minutes=30),
            reason="Settlement database upgrade (planned)",
            user=maria,
            now=now - timedelta(hours=2),
        )
        windows = 1
        lag = _alert(
            "SettlementBatchLag",
            "settlement",
            "critical",
            "Settlement batch 25 minutes behind",
            now - timedelta(minutes=12),
        )
        _post(monitor, lag, now=now - timedelta(minutes=10))
    return {
        "incidents": 2,
        "integrations": 1,
        "alerts": monitor.alerts.count(),
        "maintenance windows": windows,
    }
