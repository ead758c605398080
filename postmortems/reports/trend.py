"""The months leading up to a report: incidents per month and severity, and MTTR per month,
in one grouped query (the 12-month trend chart and the quarterly page's months)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from incidents.models import Incident
from ircore.models import Severity

from ..durations import TIME_TO_RESOLVE
from .periods import Period, report_zone


@dataclass
class TrendMonth:
    period: Period
    counts: dict[str, int] = field(default_factory=dict)  # severity key -> incidents
    mttr: float | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Trend:
    severities: list[Severity]
    months: list[TrendMonth]


def monthly_trend(last: Period, months: int = 12) -> Trend:
    """``months`` calendar months ending with the month ``last`` starts in."""
    first = Period(last.first)
    for _ in range(months - 1):
        first = first.previous
    periods = [first]
    while len(periods) < months:
        periods.append(periods[-1].next)
    zone = report_zone()
    # Per month and severity: the count, and the sum and number of resolve times, so that a
    # month's MTTR is exact across its severities (a mean of means would not be).
    resolve = TIME_TO_RESOLVE.seconds()
    rows = (
        Incident.objects.real()
        .filter(declared_at__gte=periods[0].start, declared_at__lt=periods[-1].end)
        .annotate(month=TruncMonth("declared_at", tzinfo=zone))
        .values("month", "severity__key")
        .annotate(n=Count("pk"), ttr_sum=Sum(resolve), ttr_n=Count(resolve))
        .order_by()
    )
    by_first = {p.first: TrendMonth(p) for p in periods}
    sums: dict = {}
    for row in rows:
        entry = by_first[_day(row["month"], zone)]
        entry.counts[row["severity__key"]] = row["n"]
        total, n = sums.get(entry.period.first, (0.0, 0))
        sums[entry.period.first] = (total + (row["ttr_sum"] or 0.0), n + row["ttr_n"])
    for first, (total, n) in sums.items():
        by_first[first].mttr = total / n if n else None
    return Trend(list(Severity.objects.order_by("rank")), list(by_first.values()))


def _day(value, zone) -> date:
    """TruncMonth gives an aware datetime (midnight in ``zone``) on every backend here."""
    if isinstance(value, datetime):
        return timezone.localtime(value, zone).date()
    return value
