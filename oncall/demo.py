"""Demo schedules and escalation for a first run, loaded by ``manage.py bootstrap`` through
``OncallConfig.load_demo``: one schedule per demo team, a weekly primary and a weekly
secondary of the demo responders, so ``make run`` shows who is on call now; and an
escalation policy per team, so the demo's open incident (declared 20 minutes ago,
acknowledged, not yet identified) pages its team's secondary and manager at the worker's
first tick, through the console mail backend. Schedules are made through the services, with
the rule warnings accepted (a demo team is smaller than the seeds' rules want); the policies
are rows of the policy, as a policy import makes them.

The incidents' demo runs first (``INSTALLED_APPS`` order) but their escalations start after
the demo's transaction commits (the engine's receiver, or its tick's missed-start sweep), by
when these policies exist."""

from datetime import datetime, time, timedelta

from ircore.models import Team

from . import services as oncall
from .models import EscalationPolicy, EscalationStep, Layer

CHANGE_REASON = "demo data"
# (minutes, unless, target, layer level or None): 000_*'s matrix on the demo rotations.
DEMO_STEPS = (
    (0, "acknowledged", EscalationStep.Target.LAYER, 1),
    (10, "identified", EscalationStep.Target.LAYER, 2),
    (15, "identified", EscalationStep.Target.TEAM_MANAGER, None),
    (60, "resolved", EscalationStep.Target.TEAM_LEAD, None),
)


def load_demo(*, people: dict, now: datetime, **_context) -> dict[str, int]:
    rotating = [people[name] for name in ("maria", "raj", "dana") if name in people]
    if len(rotating) < 2:
        return {"schedules": 0}
    made = 0
    for team in Team.objects.order_by("name"):
        zone = _zone(team, people)
        schedule = oncall.schedule_create(
            team=team, name=f"{team.name} on call", time_zone=zone, by=people.get("maria")
        )
        local_today = now.astimezone(schedule.zone).date()
        monday = local_today - timedelta(days=local_today.weekday() + 7)
        order = rotating[made % len(rotating) :] + rotating[: made % len(rotating)]
        for level, name, members in (
            (1, "Primary", order),
            (2, "Secondary", order[1:] + order[:1]),
        ):
            oncall.layer_create(
                schedule=schedule,
                by=people.get("maria"),
                name=name,
                level=level,
                kind="weekly",
                start_date=monday,
                handoff_time=time(9, 0),
                members=members,
                accept_warnings=True,
                now=now,
            )
        made += 1
    policies = _escalation(by=people.get("maria"))
    return {"schedules": made, "escalation policies": policies}


def _escalation(*, by) -> int:
    """A policy per demo team: the primary at once, unless acknowledged; the secondary after
    10 minutes and the team's manager after 15 unless identified (000_* "Issue not identified
    after 15 minutes"); the team's lead after an hour unless resolved."""
    made = 0
    layers = {
        (layer.schedule.team_id, layer.level): layer
        for layer in Layer.objects.select_related("schedule")
    }
    for team in Team.objects.order_by("name"):
        if EscalationPolicy.objects.filter(team=team, service__isnull=True).exists():
            continue
        policy = _marked(
            EscalationPolicy(
                name=f"{team.name} escalation",
                description="Demo: the team's on-call, then its secondary, manager and lead.",
                team=team,
            ),
            by,
        )
        policy.save()
        for position, (minutes, unless, target, level) in enumerate(DEMO_STEPS, start=1):
            layer = layers.get((team.pk, level)) if level else None
            if target == EscalationStep.Target.LAYER and layer is None:
                continue
            _marked(
                EscalationStep(
                    policy=policy,
                    position=position,
                    delay=timedelta(minutes=minutes),
                    unless=unless,
                    target=target,
                    layer=layer,
                ),
                by,
            ).save()
        made += 1
    return made


def _marked(row, by):
    row._change_reason = CHANGE_REASON
    if by is not None:
        row._history_user = by
    return row


def _zone(team: Team, people: dict) -> str:
    lead = getattr(team.lead, "profile", None) if team.lead_id else None
    return getattr(lead, "time_zone", "") or "Europe/London"
