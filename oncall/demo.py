"""Demo schedules for a first run, loaded by ``manage.py bootstrap`` through
``OncallConfig.load_demo``: one per demo team, a weekly primary and a weekly secondary of the
demo responders, so ``make run`` shows who is on call now. Made through the services, with
the rule warnings accepted (a demo team is smaller than the seeds' rules want)."""

from datetime import datetime, time, timedelta

from ircore.models import Team

from . import services as oncall


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
    return {"schedules": made}


def _zone(team: Team, people: dict) -> str:
    lead = getattr(team.lead, "profile", None) if team.lead_id else None
    return getattr(lead, "time_zone", "") or "Europe/London"
