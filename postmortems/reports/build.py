"""The figures of one report period (a month or a quarter), each computed by SQL aggregates in
a fixed number of queries whatever the history's size (what the words mean:
``postmortems.reports.definitions``; the durations: ``postmortems.durations``).

``build_report(period, now=...)`` runs, in order:

1. the severities of the policy (every one gets a row, with zeros and nulls if unused);
2. the period's and the previous period's totals, the overall means and the cost (one
   aggregate over the real incidents of both periods), and all incidents of the period (for
   the drills left out);
3. counts, means and within-target counts per severity (one grouped aggregate);
4. the top types, services and teams (one grouped query each);
5. repeat incidents (a window over the period and the 30 days before it, one query);
6. postmortems due and on time, action items completed and overdue (two queries each);
7. what other areas compute, read through their one home: update cadence
   (``comms.selectors.cadence_kept``), uptime (``comms.status.uptime.uptime_percent``) and
   on-call load (``oncall.report.oncall_report``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When, Window
from django.db.models.functions import Coalesce, Lag
from django.utils import timezone

from comms.selectors import cadence_kept
from incidents.models import Incident
from ircore.models import Service, Severity
from oncall.report import oncall_report

from ..durations import DURATIONS, DurationSeconds
from ..models import ActionItem, Postmortem
from .definitions import REPEAT_DAYS, TOP
from .periods import Period

REPEAT_WINDOW = timedelta(days=REPEAT_DAYS)
# Action items named on the page (the counts cover all of them).
LISTED = 10


@dataclass
class SeverityRow:
    key: str
    name: str
    colour: str
    count: int = 0
    mttd: float | None = None
    mtta: float | None = None
    mttr: float | None = None
    ack_target: timedelta | None = None
    resolve_target: timedelta | None = None
    acknowledged: int = 0  # incidents with both times (detected, acknowledged)
    acknowledged_within: int = 0
    resolved: int = 0
    resolved_within: int = 0

    @property
    def mtta_met(self) -> bool | None:
        return _met(self.mtta, self.ack_target)

    @property
    def mttr_met(self) -> bool | None:
        return _met(self.mttr, self.resolve_target)


def _met(mean: float | None, target: timedelta | None) -> bool | None:
    if mean is None or target is None:
        return None
    return mean <= target.total_seconds()


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    count: int


@dataclass(frozen=True)
class Repeat:
    service: str  # slug
    service_name: str
    incident_type: str  # key
    type_name: str
    count: int


@dataclass(frozen=True)
class Uptime:
    service: str  # slug
    name: str
    percent: float | None


@dataclass
class OncallLoad:
    hours: Decimal = Decimal(0)
    pages: int = 0
    out_of_hours: int = 0
    teams: list[Any] = field(default_factory=list)  # oncall.report.TeamRow


@dataclass
class Report:
    period: Period
    now: datetime
    total: int = 0
    previous_total: int = 0
    drills_excluded: int = 0
    mttd: float | None = None
    mtta: float | None = None
    mttr: float | None = None
    by_severity: list[SeverityRow] = field(default_factory=list)
    uptime: list[Uptime] = field(default_factory=list)
    types: list[Category] = field(default_factory=list)
    services: list[Category] = field(default_factory=list)
    teams: list[Category] = field(default_factory=list)
    repeats: list[Repeat] = field(default_factory=list)
    repeat_incidents: int = 0
    cost: Decimal = Decimal(0)
    costed: int = 0
    postmortems_due: int = 0
    postmortems_on_time: int = 0
    postmortems_published: int = 0
    actions_completed: int = 0
    actions_wont_do: int = 0
    actions_overdue: int = 0
    actions_as_of: Any = None  # date
    completed_items: list[Any] = field(default_factory=list)  # ActionItem, at most LISTED
    overdue_items: list[Any] = field(default_factory=list)
    cadence: dict[str, dict[str, int]] = field(default_factory=dict)
    oncall: OncallLoad | None = None

    @property
    def change(self) -> int:
        return self.total - self.previous_total

    @property
    def change_percent(self) -> float | None:
        if not self.previous_total:
            return None
        return round(100 * self.change / self.previous_total, 1)

    @property
    def observed_end(self) -> datetime:
        """The end of what has happened: the period's end, or now while it runs."""
        return min(self.period.end, self.now)


def real_in(period: Period):
    """The real incidents declared in the period: the set every figure counts over."""
    return Incident.objects.real().filter(declared_at__gte=period.start, declared_at__lt=period.end)


def build_report(
    period: Period, *, now: datetime | None = None, parts: tuple[str, ...] | None = None
) -> Report:
    """The period's figures; ``parts`` (names of ``PARTS``) computes only some (a chart)."""
    report = Report(period=period, now=now or timezone.now())
    for name in parts or PARTS:
        PARTS[name](report)
    return report


def _totals(report: Report) -> None:
    period = report.period
    in_period = Q(declared_at__gte=period.start)
    both = Incident.objects.real().filter(
        declared_at__gte=period.previous.start, declared_at__lt=period.end
    )
    row = both.aggregate(
        total=Count("pk", filter=in_period),
        previous_total=Count("pk", filter=~in_period),
        cost_sum=Coalesce(Sum("cost__total", filter=in_period), Value(Decimal(0))),
        cost_n=Count("cost", filter=in_period),
        **{d.mean_key: d.mean(filter=in_period) for d in DURATIONS},
    )
    everything = Incident.objects.filter(declared_at__gte=period.start, declared_at__lt=period.end)
    report.drills_excluded = everything.count() - row["total"]
    report.total, report.previous_total = row["total"], row["previous_total"]
    report.cost, report.costed = Decimal(row["cost_sum"]), row["cost_n"]
    report.mttd, report.mtta, report.mttr = row["mttd"], row["mtta"], row["mttr"]


def _by_severity(report: Report) -> None:
    has_ack = Q(acknowledged_at__isnull=False, detected_at__isnull=False)
    has_resolve = Q(resolved_at__isnull=False, detected_at__isnull=False)
    # Targets compared as datetimes (detected + target), which both backends do natively.
    ack_within = has_ack & Q(acknowledged_at__lte=F("detected_at") + F("severity__ack_target"))
    resolve_within = has_resolve & Q(
        resolved_at__lte=F("detected_at") + F("severity__resolve_target")
    )
    rows = {
        row.pop("severity"): row
        for row in real_in(report.period)
        .values("severity")
        .annotate(
            count=Count("pk"),
            acknowledged=Count("pk", filter=has_ack),
            acknowledged_within=Count("pk", filter=ack_within),
            resolved=Count("pk", filter=has_resolve),
            resolved_within=Count("pk", filter=resolve_within),
            **{d.mean_key: d.mean() for d in DURATIONS},
        )
        .order_by()
    }
    for severity in Severity.objects.order_by("rank"):
        figures = rows.get(severity.pk, {})
        report.by_severity.append(
            SeverityRow(
                key=severity.key,
                name=severity.name,
                colour=severity.colour,
                ack_target=severity.ack_target,
                resolve_target=severity.resolve_target,
                **figures,
            )
        )


def _top(rows, key: str, name: str, empty: str = "") -> list[Category]:
    return [
        Category(row[key] or "", row[name] or empty, row["n"])
        for row in rows.order_by("-n", F(name).asc(nulls_last=True))[:TOP]
    ]


def _categories(report: Report) -> None:
    real = real_in(report.period)
    report.types = _top(
        real.values("incident_type__key", "incident_type__name").annotate(n=Count("pk")),
        "incident_type__key",
        "incident_type__name",
        empty="(no type)",
    )
    service = "affected__service"
    report.services = _top(
        real.filter(**{f"{service}__isnull": False})
        .values(f"{service}__slug", f"{service}__name")
        .annotate(n=Count("pk", distinct=True)),
        f"{service}__slug",
        f"{service}__name",
    )
    team = "affected__service__team"
    report.teams = _top(
        real.filter(**{f"{team}__isnull": False})
        .values(f"{team}__slug", f"{team}__name")
        .annotate(n=Count("pk", distinct=True)),
        f"{team}__slug",
        f"{team}__name",
    )


def _repeat_rows(period: Period):
    """One row per (incident, affected service) of the typed real incidents declared in the
    period or the 30 days before it, with ``in_period`` (1/0) and ``gap``: seconds since the
    previous incident of the same type on the same service (NULL for the first). Driven from
    the incidents' declared_at index, the affected services joined by incident.

    The window must see the 30 days before the period, so the period itself cannot be a
    WHERE of this query (a WHERE applies before the window); the caller's outer query
    filters on ``in_period`` and ``gap``."""
    service = "affected__service_id"
    previous = Window(
        Lag("declared_at"),
        partition_by=[F(service), F("incident_type_id")],
        order_by=[F("declared_at").asc(), F("pk").asc()],
    )
    return (
        Incident.objects.real()
        .filter(
            declared_at__gte=period.start - REPEAT_WINDOW,
            declared_at__lt=period.end,
            incident_type__isnull=False,
        )
        .annotate(
            r_service=F(service),
            r_type=F("incident_type_id"),
            r_incident=F("pk"),
            in_period=Case(
                When(declared_at__gte=period.start, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            gap=DurationSeconds("declared_at", previous),
        )
        .values("r_service", "r_type", "r_incident", "in_period", "gap")
        .order_by()
    )


def _repeats(report: Report) -> None:
    # Django cannot aggregate over a filter on a window, so the grouping is an outer query
    # around the ORM's own SQL (all backend specifics stay inside it).
    inner, params = _repeat_rows(report.period).query.sql_with_params()
    where = (
        "WHERE w.in_period = 1 AND w.r_service IS NOT NULL AND w.gap IS NOT NULL AND w.gap <= %s"
    )
    limit = float(REPEAT_WINDOW.total_seconds())
    # The repeat rows themselves (at most one per incident and service of the period): the
    # groups and the distinct incidents are counted from the one read.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT w.r_service, w.r_type, w.r_incident FROM ({inner}) w {where}",
            (*params, limit),
        )
        rows = cursor.fetchall()
    report.repeat_incidents = len({incident for _, _, incident in rows})
    groups = Counter((service, kind) for service, kind, _ in rows)
    if not groups:
        return
    # The names of the few services and types involved (bounded by the policy, not history).
    from ircore.models import IncidentType

    services = {s.pk: s for s in Service.objects.filter(pk__in={s for s, _ in groups})}
    types = {t.pk: t for t in IncidentType.objects.filter(pk__in={t for _, t in groups})}
    report.repeats = sorted(
        (
            Repeat(services[s].slug, services[s].name, types[t].key, types[t].name, n)
            for (s, t), n in groups.items()
        ),
        key=lambda r: (-r.count, r.service_name, r.type_name),
    )


def _postmortems(report: Report) -> None:
    period = report.period
    due = Postmortem.objects.real().filter(due_at__gte=period.start, due_at__lt=period.end)
    row = due.aggregate(
        due=Count("pk"), published=Count("pk", filter=Q(published_at__isnull=False))
    )
    report.postmortems_due, report.postmortems_published = row["due"], row["published"]
    report.postmortems_on_time = due.on_time().count()


def _action_items(report: Report) -> None:
    period = report.period
    completed = ActionItem.objects.real().completed_in(period.start, period.end)
    row = completed.aggregate(
        completed=Count("pk"), wont_do=Count("pk", filter=Q(status=ActionItem.Status.WONT_DO))
    )
    report.actions_completed, report.actions_wont_do = row["completed"], row["wont_do"]
    report.actions_as_of = period.as_of(report.now)
    overdue = ActionItem.objects.real().overdue(report.actions_as_of)
    report.actions_overdue = overdue.count()
    # The few to name on the page: the latest finished, the longest overdue.
    report.completed_items = _named(completed, "-completed_at", "-id")
    report.overdue_items = _named(overdue, "due_on", "id")


def _named(items, *order: str) -> list[ActionItem]:
    """The first ``LISTED`` of ``items`` with their owner and incident: picked by id first
    and joined after, so the joins touch those few rather than every overdue item."""
    first = items.order_by(*order).values("pk")[:LISTED]
    return list(
        ActionItem.objects.filter(pk__in=first)
        .select_related("owner", "postmortem__incident")
        .order_by(*order)
    )


def _cadence(report: Report) -> None:
    report.cadence = cadence_kept(real_in(report.period), now=report.now)


def _uptime(report: Report) -> None:
    services = list(Service.objects.filter(public=True).order_by("name"))
    end = report.observed_end
    if not services or end <= report.period.start:
        report.uptime = [Uptime(s.slug, s.display_public_name, None) for s in services]
        return
    from comms.status.uptime import uptime_percent

    percent = uptime_percent(services, report.period.start, end, now=report.now)
    report.uptime = [Uptime(s.slug, s.display_public_name, percent.get(s.pk)) for s in services]


def _oncall(report: Report) -> None:
    end = report.observed_end
    if end <= report.period.start:
        report.oncall = OncallLoad()
        return
    load = oncall_report(start=report.period.start, end=end)
    report.oncall = OncallLoad(
        hours=sum((row.hours for row in load.people), Decimal(0)),
        pages=sum(row.pages for row in load.people),
        out_of_hours=sum(row.out_of_hours for row in load.people),
        teams=load.teams,
    )


PARTS = {
    "totals": _totals,
    "by_severity": _by_severity,
    "categories": _categories,
    "repeats": _repeats,
    "postmortems": _postmortems,
    "action_items": _action_items,
    "cadence": _cadence,
    "uptime": _uptime,
    "oncall": _oncall,
}
