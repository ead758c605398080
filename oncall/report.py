"""On-call load and pay over a range: who carried the pager how long, how often it went off
(and how often at night), how many incidents each team had, and what the on-call is owed.

One function computes the figures (``oncall_report``); the admin page and the CSV download
both render them. Counting is in SQL (pages by person, by team, out of hours per time zone;
incidents by team); hours come from the rotation maths (``oncall.selectors``: every layer's
shifts, overrides and skips applied), a person on two layers at once counted once.

- **Hours on call**: the time a person is on call on any layer of any schedule, clipped to
  the range; per team, on that team's schedules.
- **Pages**: pages sent to the person in the range (``paged_at``), drills excluded; per team,
  pages about the team's incidents (through their affected services' teams).
- **Out of hours**: those pages sent 22:00-08:00 on the person's own clock
  (``Profile.time_zone``).
- **Incidents** per team: incidents declared in the range that affect a service of the team,
  drills excluded (the seeds' "payment team gets 3x more incidents").
- **Pay**: ``ONCALL_WEEKLY_STIPEND`` per week on call, pro rata by hours (168 hours a week),
  plus ``ONCALL_PER_INCIDENT`` for each incident the person was paged about in the range,
  in ``ONCALL_CURRENCY`` (004_*: "On-call compensation: $500/week + overtime for incidents").
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.db.models.functions import ExtractHour

from incidents.models import Incident
from ircore.models import Team
from ircore.spreadsheet import safe_cell

from .models import Layer, Page, Schedule
from .selectors import load_layers, plan_of

WEEK_HOURS = Decimal(168)
CENT = Decimal("0.01")
# Out of hours: 22:00 to 08:00 on the person's own clock.
NIGHT_FROM, NIGHT_UNTIL = 22, 8
MAX_RANGE = timedelta(days=366)


@dataclass(frozen=True)
class PayRules:
    weekly_stipend: Decimal
    per_incident: Decimal
    currency: str


def pay_rules() -> PayRules:
    """The settings' pay rules (004_*'s $500 a week by default; overtime 0 until set)."""
    return PayRules(
        Decimal(str(settings.ONCALL_WEEKLY_STIPEND)),
        Decimal(str(settings.ONCALL_PER_INCIDENT)),
        str(settings.ONCALL_CURRENCY),
    )


@dataclass
class PersonRow:
    user: object
    seconds: int = 0
    pages: int = 0
    out_of_hours: int = 0
    incidents: int = 0
    stipend: Decimal = Decimal(0)
    overtime: Decimal = Decimal(0)

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.seconds) / 3600).quantize(CENT, ROUND_HALF_UP)

    @property
    def total(self) -> Decimal:
        return self.stipend + self.overtime


@dataclass
class TeamRow:
    team: Team
    seconds: int = 0
    pages: int = 0
    out_of_hours: int = 0
    incidents: int = 0

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.seconds) / 3600).quantize(CENT, ROUND_HALF_UP)


@dataclass
class Report:
    start: datetime
    end: datetime
    pay: PayRules
    people: list[PersonRow] = field(default_factory=list)
    teams: list[TeamRow] = field(default_factory=list)

    @property
    def total_pay(self) -> Decimal:
        return sum((row.total for row in self.people), Decimal(0))


def _union_seconds(intervals: list[tuple[datetime, datetime]]) -> int:
    """Seconds covered by the intervals, overlaps counted once."""
    total, reach = 0.0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += (end - start).total_seconds()
            reach = end
        elif end > reach:
            total += (end - reach).total_seconds()
            reach = end
    return int(total)


def _on_call_seconds(start: datetime, end: datetime) -> tuple[dict, dict]:
    """Seconds on call per person, and per (team, person), from every layer's shifts."""
    layers = load_layers(start, end, layers=Layer.objects.all())
    teams = dict(Schedule.objects.values_list("pk", "team_id"))
    by_person: dict[int, list] = defaultdict(list)
    by_team: dict[tuple[int, int], list] = defaultdict(list)
    for layer in layers:
        team_id = teams[layer.schedule_id]
        for span in plan_of(layer).spans(start, end):
            by_person[span.user_id].append((span.start, span.end))
            by_team[(team_id, span.user_id)].append((span.start, span.end))
    return (
        {user: _union_seconds(spans) for user, spans in by_person.items()},
        {key: _union_seconds(spans) for key, spans in by_team.items()},
    )


def _sent(start: datetime, end: datetime):
    return Page.objects.filter(is_drill=False, paged_at__gte=start, paged_at__lt=end)


def _zones(start: datetime, end: datetime) -> set[str | None]:
    """The recipients' time zones among the range's pages (None: a person without profile)."""
    return set(
        _sent(start, end)
        .filter(recipient__isnull=False)
        .values_list("recipient__profile__time_zone", flat=True)
        .distinct()
    )


def _at_night(start: datetime, end: datetime, zone: str | None):
    """The range's pages to people of ``zone`` sent 22:00-08:00 on that zone's clock."""
    pages = _sent(start, end).filter(recipient__isnull=False)
    if zone is None:
        pages = pages.filter(recipient__profile__isnull=True)
    else:
        pages = pages.filter(recipient__profile__time_zone=zone)
    hour = ExtractHour("paged_at", tzinfo=ZoneInfo(zone or settings.TIME_ZONE))
    return pages.annotate(hour=hour).filter(Q(hour__gte=NIGHT_FROM) | Q(hour__lt=NIGHT_UNTIL))


def _out_of_hours(start: datetime, end: datetime, zones) -> dict[int, int]:
    """Night pages per recipient: one query per time zone in use."""
    found: dict[int, int] = {}
    for zone in zones:
        rows = _at_night(start, end, zone).values("recipient").annotate(n=Count("pk"))
        found.update(rows.values_list("recipient", "n"))
    return found


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


def oncall_report(*, start: datetime, end: datetime, pay: PayRules | None = None) -> Report:
    """The figures over [start, end) (aware datetimes, at most ``MAX_RANGE`` apart)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if not start < end or end - start > MAX_RANGE:
        raise ValueError("the range must end after it starts, within 366 days")
    pay = pay or pay_rules()
    seconds, team_seconds = _on_call_seconds(start, end)
    sent = _sent(start, end)
    pages = dict(
        sent.filter(recipient__isnull=False)
        .values("recipient")
        .annotate(n=Count("pk"))
        .values_list("recipient", "n")
    )
    paged_incidents = dict(
        sent.filter(recipient__isnull=False, incident__is_drill=False)
        .values("recipient")
        .annotate(n=Count("incident", distinct=True))
        .values_list("recipient", "n")
    )
    zones = _zones(start, end)
    night = _out_of_hours(start, end, zones)
    ids = set(seconds) | set(pages)
    users = get_user_model().objects.filter(pk__in=ids).order_by("username")
    report = Report(start, end, pay)
    for user in users:
        row = PersonRow(
            user,
            seconds=seconds.get(user.pk, 0),
            pages=pages.get(user.pk, 0),
            out_of_hours=night.get(user.pk, 0),
            incidents=paged_incidents.get(user.pk, 0),
        )
        row.stipend = _money(pay.weekly_stipend * Decimal(row.seconds) / 3600 / WEEK_HOURS)
        row.overtime = _money(pay.per_incident * row.incidents)
        report.people.append(row)
    report.teams = _team_rows(start, end, team_seconds, zones)
    return report


def _team_rows(start, end, team_seconds, zones) -> list[TeamRow]:
    real = Incident.objects.real().filter(declared_at__gte=start, declared_at__lt=end)
    incidents = dict(
        real.filter(affected__service__team__isnull=False)
        .values("affected__service__team")
        .annotate(n=Count("pk", distinct=True))
        .values_list("affected__service__team", "n")
    )
    team = "incident__affected__service__team"
    pages = dict(
        _sent(start, end)
        .filter(**{f"{team}__isnull": False})
        .values(team)
        .annotate(n=Count("pk", distinct=True))
        .values_list(team, "n")
    )
    team_night: dict[int, int] = defaultdict(int)
    for zone in zones:
        rows = (
            _at_night(start, end, zone)
            .filter(**{f"{team}__isnull": False})
            .values(team)
            .annotate(n=Count("pk", distinct=True))
            .values_list(team, "n")
        )
        for team_id, n in rows:
            team_night[team_id] += n
    hours: dict[int, int] = defaultdict(int)
    for (team_id, _user), secs in team_seconds.items():
        hours[team_id] += secs
    ids = set(hours) | set(incidents) | set(pages)
    return [
        TeamRow(
            team,
            seconds=hours.get(team.pk, 0),
            pages=pages.get(team.pk, 0),
            out_of_hours=team_night.get(team.pk, 0),
            incidents=incidents.get(team.pk, 0),
        )
        for team in Team.objects.filter(pk__in=ids).order_by("name")
    ]


# --- CSV -------------------------------------------------------------------------------------

PEOPLE_HEADER = [
    "section",
    "name",
    "hours on call",
    "pages",
    "out-of-hours pages",
    "incidents",
    "stipend",
    "overtime",
    "total",
    "currency",
]


def report_csv(report: Report) -> str:
    """The same figures as the admin page, one row per person then one per team."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["range", report.start.isoformat(), report.end.isoformat()])
    writer.writerow(PEOPLE_HEADER)
    for row in report.people:
        name = safe_cell(row.user.get_full_name() or row.user.get_username())
        writer.writerow(
            [
                "person",
                name,
                row.hours,
                row.pages,
                row.out_of_hours,
                row.incidents,
                row.stipend,
                row.overtime,
                row.total,
                report.pay.currency,
            ]
        )
    for row in report.teams:
        name = safe_cell(row.team.name)
        writer.writerow(["team", name, row.hours, row.pages, row.out_of_hours, row.incidents])
    return out.getvalue()


__all__ = ["PayRules", "Report", "oncall_report", "pay_rules", "report_csv"]
