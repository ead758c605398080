"""Demo drills and a demo cost assessment, loaded by ``manage.py bootstrap`` through
``PostmortemsConfig.load_demo`` after the incidents' and on-call demos (``INSTALLED_APPS``
order), made through the services so history and timelines are real.

- A game day two days ago through the incidents demo's Alertmanager integration: its
  synthetic alert declared a drill incident on Payments API, the escalation engine paged the
  participant on call (the engine is run here at the drill's own times: the demo's
  transaction commits only at the end), who acknowledged; the incident was identified,
  mitigated and resolved, and the assessment compares the times with the targets and records
  an action item. A tabletop is scheduled for next month.
- The cost of the demo's resolved incident: the pre-fill from its roles and the services'
  cost figures, one line adjusted and one recovery investment added.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from incidents.alerts.models import Integration
from incidents.demo import DEMO_INTEGRATION
from incidents.models import Incident
from incidents.services import incident_set_status
from oncall.models import Page
from oncall.services.escalation import escalation_acknowledge, escalation_tick

from .models import ActionItem, CostLine, Drill, ServiceCost
from .services import cost, drills

CHANGE_REASON = "demo data"
# (service slug, revenue per minute, SLA credit, credit owed after)
DEMO_FIGURES = (
    ("payments-api", Decimal(120), Decimal(2000), timedelta(minutes=15)),
    ("merchant-dashboard", Decimal(25), Decimal(500), timedelta(minutes=30)),
)


def load_drill_demo(*, people: dict, services: dict, now: datetime) -> dict[str, int]:
    integration = Integration.objects.filter(name=DEMO_INTEGRATION).first()
    service = services.get("payments-api")
    if integration is None or service is None or not {"maria", "raj", "dana"} <= set(people):
        return {"drills": 0}
    maria, raj, dana = people["maria"], people["raj"], people["dana"]
    t = (now - timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    game_day = drills.drill_schedule(
        kind=Drill.Kind.GAME_DAY,
        scheduled_for=t,
        service=service,
        integration=integration,
        participants=[maria, raj, dana],
        user=maria,
    )
    drills.drill_run(drill=game_day, user=maria, now=t, fault_started_at=t - timedelta(minutes=3))
    incident = game_day.incident
    escalation_tick(incident_ids=[incident.pk], now=t)
    page = Page.objects.filter(incident=incident, recipient__isnull=False).order_by("id").first()
    responder = page.recipient if page else raj
    escalation_acknowledge(
        incident=incident, user=responder, via="link", page=page, now=t + timedelta(minutes=4)
    )
    for minutes, status, note in (
        (9, Incident.Status.IDENTIFIED, "Drill: the payments queue consumer is stopped."),
        (22, Incident.Status.MONITORING, "Drill: consumer restarted; backlog draining."),
        (38, Incident.Status.RESOLVED, "Drill: backlog drained; payments flowing."),
    ):
        incident_set_status(
            incident=incident,
            status=status,
            user=responder,
            note=note,
            now=t + timedelta(minutes=minutes),
        )
    drills.drill_complete(
        drill=game_day,
        user=maria,
        went_well="The page reached the on-call in seconds; the runbook's first step worked.",
        to_improve="Nobody knew who posts the status page update during a drill.",
        process_updates="Name the Communications Lead in the game day's plan.",
        communication_score=3,
        action_items=[
            drills.ActionItemDraft(
                title="Add the Communications Lead to the game day checklist",
                kind=ActionItem.Kind.PROCESS,
                owner=maria,
                due_on=(t + timedelta(days=14)).date(),
            )
        ],
        now=t + timedelta(minutes=60),
    )
    next_month = _first_weekday_of_next_month(now.date())
    drills.drill_schedule(
        kind=Drill.Kind.TABLETOP,
        scheduled_for=datetime.combine(next_month, t.timetz()),
        scenario="The card gateway returns errors for a third of payments at peak time.",
        participants=[raj, dana],
        user=maria,
    )
    return {"drills": 2}


def _first_weekday_of_next_month(today: date) -> date:
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    while first.weekday() >= 5:
        first += timedelta(days=1)
    return first


def load_cost_demo(*, people: dict, services: dict, now: datetime) -> dict[str, int]:
    maria = people.get("maria")
    for slug, revenue, credit, after in DEMO_FIGURES:
        if slug in services:
            row = ServiceCost(
                service=services[slug],
                revenue_per_minute=revenue,
                sla_credit=credit,
                sla_credit_after=after,
            )
            row._change_reason = CHANGE_REASON
            row.save()
    resolved = (
        Incident.objects.real()
        .filter(status__in=Incident.CLOSED_STATES)
        .order_by("-resolved_at", "-id")
        .first()
    )
    if resolved is None:
        return {"cost assessments": 0}
    assessment = cost.cost_prefill(incident=resolved, user=maria, now=now)
    lines = {line.key: line for line in assessment.lines.all()}
    cost.cost_adjust(
        line=lines[CostLine.Key.ENGINEERING_TIME],
        amount="300",
        note="Dana investigated for an hour before declaring; the tool counts from declaration.",
        user=maria,
    )
    cost.cost_adjust(
        line=lines[CostLine.Key.MONITORING],
        amount="400",
        note="An alert on report latency (p95 over 5 s).",
        user=maria,
    )
    return {"cost assessments": 1}
