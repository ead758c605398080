"""The on-call sections of ``manage.py bench``: who is on call now for 100 schedules (two
layers each, with current overrides), read by the admin page and the selector in a fixed
number of queries, not one per schedule, and no slower with a long history of past
overrides (one per incident index); and one escalation engine tick with 100 escalations due,
among 100 open incidents with escalations at the small size and 10,000 at the large one (the
same queries, about the same time). Found by ``incidents.bench.sections()``."""

from datetime import time, timedelta

from django.contrib.auth import get_user_model
from django.urls import reverse

from incidents.bench import Context, Measurement, Section, register
from incidents.models import Incident
from ircore.models import Team

from . import services
from .models import (
    Escalation,
    EscalationPolicy,
    EscalationStep,
    Layer,
    LayerRoster,
    Override,
    Page,
    Schedule,
)
from .selectors import on_call_now
from .services.engine import snapshot
from .services.escalation import escalation_tick

SCHEDULES = 100
PEOPLE = 8
CHUNK = 2000


def setup_oncall(ctx: Context) -> None:
    user_model = get_user_model()
    people = [
        user_model.objects.create_user(f"bench-oncall-{n}", password=None, is_staff=True)
        for n in range(PEOPLE)
    ]
    monday = (ctx.now - timedelta(days=ctx.now.weekday() + 7)).date()
    for i in range(SCHEDULES):
        team = Team.objects.create(name=f"Bench team {i}", slug=f"bench-team-{i}")
        schedule = services.schedule_create(
            team=team, name=f"Bench {i}", time_zone=("Europe/London", "America/New_York")[i % 2]
        )
        for level in (1, 2):
            order = people[(i + level) % PEOPLE :] + people[: (i + level) % PEOPLE]
            saved = services.layer_create(
                schedule=schedule,
                by=None,
                name=f"Level {level}",
                level=level,
                kind=("weekly", "daily", "hours")[(i + level) % 3],
                every=12 if (i + level) % 3 == 2 else 1,
                start_date=monday,
                handoff_time=time(9),
                members=order[:4],
                accept_warnings=True,
                now=ctx.now,
            )
            services.override_create(
                layer=saved.obj,
                user=people[i % PEOPLE],
                start=ctx.now - timedelta(hours=1),
                end=ctx.now + timedelta(hours=1 + i % 5),
                by=None,
                now=ctx.now,
            )


def grow_oncall(ctx: Context, start: int, stop: int) -> None:
    """One past override per incident index: history that who-is-on-call-now must not read
    (``override_layer_range_idx`` keeps it out), so both sizes should cost the same."""
    layers = ctx.data.setdefault("oncall_layers", list(Layer.objects.values_list("pk", flat=True)))
    people = ctx.data.setdefault(
        "oncall_people", list(get_user_model().objects.filter(username__startswith="bench-oncall-"))
    )
    for chunk in range(start, stop, CHUNK):
        rows = []
        for i in range(chunk, min(chunk + CHUNK, stop)):
            ends = ctx.now - timedelta(days=2 + i % 1000, hours=i % 24)
            rows.append(
                Override(
                    layer_id=layers[i % len(layers)],
                    user=people[i % len(people)],
                    start=ends - timedelta(hours=4),
                    end=ends,
                    reason="bench history",
                    created_at=ends - timedelta(days=1),
                )
            )
        Override.objects.bulk_create(rows)


def oncall_measurements(ctx: Context) -> list[Measurement]:
    return [
        Measurement(
            f"admin who is on call now, {SCHEDULES} schedules", reverse("admin:oncall_schedule_now")
        ),
        Measurement(f"on_call_now() selector, {SCHEDULES} schedules", call=on_call_now),
    ]


register(
    Section(
        name="oncall",
        setup=setup_oncall,
        grow=grow_oncall,
        measurements=oncall_measurements,
        models=(Schedule, Layer, LayerRoster, Override),
    )
)


# --- the escalation engine's tick -------------------------------------------------------------

ESCALATIONS_DUE = 100
ESCALATIONS_OPEN = 10_000


def setup_escalation(ctx: Context) -> None:
    """A layer of four people and a policy that pages its on-call every minute (one step
    repeated): each timed tick then has exactly one step due per due escalation.

    The tick's clock runs two days ahead of the incidents (all declared before today), so
    the catch-up of missed declarations (incidents declared in the last day without an
    escalation) reads an empty index range at both sizes, as it does in production once
    the day's declarations have their escalations."""
    user_model = get_user_model()
    people = [
        user_model.objects.create_user(
            f"bench-paged-{n}", email=f"bench-paged-{n}@example.com", password=None
        )
        for n in range(4)
    ]
    team = Team.objects.create(name="Bench paging", slug="bench-paging")
    schedule = services.schedule_create(team=team, name="Bench paging", time_zone="UTC")
    layer = services.layer_create(
        schedule=schedule,
        by=None,
        name="Primary",
        level=1,
        kind="daily",
        every=1,
        start_date=(ctx.now - timedelta(days=7)).date(),
        handoff_time=time(9),
        members=people,
        accept_warnings=True,
        now=ctx.now,
    ).obj
    policy = EscalationPolicy.objects.create(
        name="Bench paging", repeat_last=1, repeat_times=1000, repeat_after=timedelta(minutes=1)
    )
    EscalationStep.objects.create(
        policy=policy,
        position=1,
        delay=timedelta(minutes=1),
        target="layer",
        layer=layer,
        unless="resolved",
    )
    ctx.data["escalation_policy"] = policy
    ctx.data["escalation_base"] = ctx.now + timedelta(days=2)
    ctx.data["escalation_minute"] = 0


def grow_escalation(ctx: Context, start: int, stop: int) -> None:
    """At the small size: escalations for ``ESCALATIONS_DUE`` open incidents, all due at
    every tick. At the large size: escalations in flight (next step in a month) for open
    incidents up to ``ESCALATIONS_OPEN`` in all; the open incidents come from the incidents
    section (about 30% of its rows), none are added here."""
    policy, base = ctx.data["escalation_policy"], ctx.data["escalation_base"]
    candidates = Incident.objects.open().real().filter(escalation__isnull=True).order_by("pk")
    if start == 0:
        plan = snapshot(policy)
        rows = [
            Escalation(
                incident_id=pk,
                policy=policy,
                plan=plan,
                started_at=base,
                next_escalation_at=base + timedelta(minutes=1),
            )
            for pk in candidates.values_list("pk", flat=True)[:ESCALATIONS_DUE]
        ]
    else:
        have = Escalation.objects.count()
        later = {
            "policy": "In flight",
            "steps": [
                {
                    "position": 1,
                    "delay": 30 * 86_400,
                    "unless": "resolved",
                    "severities": [],
                    "target": "layer",
                    "layer": None,
                    "user": None,
                    "team": None,
                    "role": "",
                    "endpoint": None,
                    "label": "Later",
                }
            ],
        }
        rows = [
            Escalation(
                incident_id=pk,
                plan=later,
                started_at=base,
                next_escalation_at=base + timedelta(days=30),
            )
            for pk in candidates.values_list("pk", flat=True)[: max(0, ESCALATIONS_OPEN - have)]
        ]
    Escalation.objects.bulk_create(rows, batch_size=CHUNK)


def escalation_measurements(ctx: Context) -> list[Measurement]:
    def tick() -> int:
        ctx.data["escalation_minute"] += 1
        now = ctx.data["escalation_base"] + timedelta(minutes=ctx.data["escalation_minute"])
        return escalation_tick(now=now)

    return [
        Measurement(
            f"escalation tick, {ESCALATIONS_DUE} due (open with escalations: small "
            f"{ESCALATIONS_DUE}, large up to {ESCALATIONS_OPEN:,})",
            call=tick,
        )
    ]


register(
    Section(
        name="escalation",
        setup=setup_escalation,
        grow=grow_escalation,
        measurements=escalation_measurements,
        models=(Escalation, Page),
    )
)
