"""The on-call section of ``manage.py bench``: who is on call now for 100 schedules (two
layers each, with current overrides), read by the admin page and the selector in a fixed
number of queries, not one per schedule, and no slower with a long history of past
overrides (one per incident index). Found by ``incidents.bench.sections()``."""

from datetime import time, timedelta

from django.contrib.auth import get_user_model
from django.urls import reverse

from incidents.bench import Context, Measurement, Section, register
from ircore.models import Team

from . import services
from .models import Layer, LayerRoster, Override, Schedule
from .selectors import on_call_now

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
