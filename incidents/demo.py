"""Demo incidents for a first run, loaded by ``manage.py bootstrap`` through
``IncidentsConfig.load_demo``: made through the incident services so their timelines,
checklists and history are real."""

from datetime import datetime, timedelta

from ircore.models import Severity

from . import services as incidents
from .models import Incident, RoleAssignment, TimelineEntry


def load_demo(*, people: dict, services: dict, now: datetime) -> dict[str, int]:
    """One resolved incident from a few days ago and one open one being investigated, made
    through the incident services so their timelines, checklists and history are real."""
    # By rank, so the demo fits whatever the policy calls its levels (SEV-2, P1 ...).
    levels = list(Severity.objects.order_by("rank")[:3])
    if len(levels) < 3:
        return {"incidents": 0}
    second, third = levels[1], levels[2]
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

    # Now: card payments failing for some merchants, being investigated.
    t1 = now - timedelta(minutes=20)
    open_ = incidents.incident_declare(
        title="Card payments failing for some merchants",
        severity=second,
        services=[services["payments-api"], services["webhooks"]],
        summary="About 8% of card authorisations return errors; webhooks are delayed.",
        detected_at=t1 - timedelta(minutes=5),
        impact_started_at=t1 - timedelta(minutes=12),
        user=raj,
        now=t1,
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
    return {"incidents": 2}
