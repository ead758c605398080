"""Uptime of the public components: the 90-day bars of the status page and the figure the
reports read (``uptime_percent``). The one home of both rules below.

How an outage counts (Statuspage's weights, chosen so the figures compare with theirs):
a moment at *major outage* counts as fully down, at *partial outage* as 30% down, and
*degraded performance* as up (slow is not down; it still colours the day's bar). A
component affected by several incidents at once is at the worst of their statuses at each
moment, so overlapping incidents never count twice. Drills never count. Maintenance windows
are not downtime.

When a status held: from the history (simple-history) of each incident's affected service,
because a service's status changes during an incident (major outage, then partial once
traffic is shifted) and a single status per incident would misstate it both ways. Each
recorded status holds until the next change of that row, its removal from the incident, or
the incident's resolution (for an open incident: now), whichever comes first, and never
before the incident's impact began. A service recorded with the declaration (within
``DECLARATION_SLACK`` of the incident's creation) holds its first status from when impact
began (``impact_started_at``, else ``detected_at``, else ``declared_at``): declaring takes
minutes after the damage started. A service added later counts from when it was added. A
row with no history at all (loaded in bulk) holds its current status over the incident's
whole impact window.

Days are UTC days and a day's figure is over the whole day, today included (the hours still
to come count as up until something says otherwise), so a day's figure changes only when
incidents change.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Exists, FloatField, Func, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents.models import IncidentService

Status = IncidentService.Status

# The one statement of how each status counts against uptime (1.0: fully down).
WEIGHTS = {
    Status.OPERATIONAL: 0.0,
    Status.DEGRADED: 0.0,
    Status.PARTIAL_OUTAGE: 0.3,
    Status.MAJOR_OUTAGE: 1.0,
}
_RANK = {
    Status.OPERATIONAL: 0,
    Status.DEGRADED: 1,
    Status.PARTIAL_OUTAGE: 2,
    Status.MAJOR_OUTAGE: 3,
}
_BY_RANK = {rank: status for status, rank in _RANK.items()}
DECLARATION_SLACK = timedelta(minutes=1)
SLACK_SECONDS = DECLARATION_SLACK.total_seconds()
DAY = 86_400
HISTORY_DAYS = 90


@dataclass
class DayFigure:
    """One component's day: seconds at each status other than operational, its uptime."""

    day: date
    down: dict[str, float] = field(default_factory=dict)

    @property
    def uptime(self) -> float:
        """Percent of the day up, by ``WEIGHTS``."""
        lost = sum(WEIGHTS[status] * seconds for status, seconds in self.down.items())
        return max(0.0, 100.0 * (1 - lost / DAY))

    @property
    def worst(self) -> str:
        """The worst status that held at any moment of the day."""
        return max(self.down, key=_RANK.__getitem__, default=Status.OPERATIONAL)


Segment = tuple[datetime, datetime, str]  # [start, end) at a status
_Span = tuple[float, float, str]  # the same in seconds since the epoch, as computed


class Epoch(Func):
    """A timestamp as seconds since 1970 (UTC), computed by the database: reading 90 days of
    history as numbers rather than as datetimes Django parses one by one is most of the
    difference between a tenth of a second and a few seconds."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps UTC timestamps as ISO text, which julianday() reads; a day count as a
        # double is exact to about 20 microseconds, so round to the millisecond.
        template = "ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0, 3)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
        return self.as_sql(compiler, connection, template=template, **extra)


def _service_ids(services: Iterable) -> list[int]:
    return sorted({getattr(s, "pk", s) for s in services})


def _epoch(when: datetime) -> float:
    return when.timestamp()


def _spans(ids: list[int], start: float, end: float, now: float) -> dict[int, list[_Span]]:
    """The module's rule, in seconds: ``{service_id: [(start, end, status)]}`` merged to the
    worst status at each moment. Two queries."""
    start_at = datetime.fromtimestamp(start, tz=UTC)
    end_at = datetime.fromtimestamp(end, tz=UTC)
    overlapping = Q(incident__is_drill=False, service_id__in=ids) & (
        Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gt=start_at)
    )
    impact_from = Coalesce(
        "incident__impact_started_at", "incident__detected_at", "incident__declared_at"
    )
    times = {
        "begins": Epoch(impact_from),
        "closes": Epoch("incident__resolved_at"),
        "created": Epoch("incident__created_at"),
    }
    history_model = IncidentService.history.model
    history = (
        history_model.objects.filter(overlapping)
        .annotate(impact_from=impact_from)
        .filter(impact_from__lt=end_at)
        .annotate(at=Epoch("history_date"), **times)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "service_id", "status", "history_type", "at", *times)
    )
    rows: dict[int, list[tuple]] = defaultdict(list)
    for row in history:
        rows[row[0]].append(row)
    current = (
        IncidentService.objects.filter(overlapping)
        .exclude(Exists(history_model.objects.filter(id=OuterRef("pk"))))
        .annotate(impact_from=impact_from)
        .filter(impact_from__lt=end_at)
        .annotate(**times)
        .order_by()
        .values_list("service_id", "status", "begins", "closes")
    )
    found: dict[int, list[_Span]] = defaultdict(list)
    for service_id, status, begins, closes in current:
        _add(found[service_id], begins, closes or now, status, begins, start, end)
    for records in rows.values():
        _, service_id, _, _, _, begins, closes, created = records[0]
        closes = closes or now
        for i, (_, _, status, kind, at, *_rest) in enumerate(records):
            if kind == "-":
                break
            held_from = begins if i == 0 and at <= created + SLACK_SECONDS else at
            ends = records[i + 1][4] if i + 1 < len(records) else closes
            _add(found[service_id], held_from, min(ends, closes), status, begins, start, end)
    return {service_id: _worst_over_time(spans) for service_id, spans in found.items()}


def _add(found, begins, ends, status, impact_from, start, end) -> None:
    if status == Status.OPERATIONAL:
        return
    begins = max(begins, impact_from, start)
    ends = min(ends, end)
    if begins < ends:
        found.append((begins, ends, status))


def _worst_over_time(spans: list[_Span]) -> list[_Span]:
    """Merge possibly overlapping spans into one timeline holding, at each moment, the
    worst status of those that cover it (a sweep over their starts and ends)."""
    events = []
    for begins, ends, status in spans:
        rank = _RANK[status]
        events.append((begins, 1, rank))
        events.append((ends, -1, rank))
    events.sort(key=lambda e: (e[0], e[1]))
    counts = [0, 0, 0, 0]
    merged: list[_Span] = []
    since, held = 0.0, 0
    for at, step, rank in events:
        counts[rank] += step
        worst = 3 if counts[3] else 2 if counts[2] else 1 if counts[1] else 0
        if worst != held:
            if held and since < at:
                status = _BY_RANK[held]
                if merged and merged[-1][1] == since and merged[-1][2] == status:
                    merged[-1] = (merged[-1][0], at, status)
                else:
                    merged.append((since, at, status))
            since, held = at, worst
    return merged


def timelines(
    services: Iterable, start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[int, list[Segment]]:
    """``{service_id: [(start, end, status), ...]}``: when each service was at each status
    other than operational within ``[start, end)``, from real incidents, non-overlapping and
    in order (the worst status where incidents overlap). Two queries."""
    ids = _service_ids(services)
    if not ids or start >= end:
        return {}
    now_s = _epoch(now or timezone.now())
    found = _spans(ids, _epoch(start), _epoch(end), now_s)

    def at(seconds: float) -> datetime:
        # The database's float keeps microseconds only approximately: whole milliseconds.
        return datetime.fromtimestamp(round(seconds, 3), tz=UTC)

    return {
        service_id: [(at(b), at(e), status) for b, e, status in spans]
        for service_id, spans in found.items()
    }


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def daily(
    services: Iterable, first_day: date, last_day: date, *, now: datetime | None = None
) -> dict[int, list[DayFigure]]:
    """Per service, one ``DayFigure`` per UTC day from ``first_day`` to ``last_day``."""
    ids = _service_ids(services)
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    figures = {pk: [DayFigure(day) for day in days] for pk in ids}
    if not ids:
        return figures
    origin = _epoch(_day_start(first_day))
    found = _spans(ids, origin, origin + DAY * len(days), _epoch(now or timezone.now()))
    for service_id, spans in found.items():
        by_day = figures[service_id]
        for begins, ends, status in spans:
            n = int((begins - origin) // DAY)
            while n < len(days) and origin + n * DAY < ends:
                lo = max(begins, origin + n * DAY)
                hi = min(ends, origin + (n + 1) * DAY)
                if hi > lo:
                    down = by_day[n].down
                    down[status] = down.get(status, 0.0) + (hi - lo)
                n += 1
    return figures


def uptime_percent(
    services: Iterable, start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[int, float]:
    """``{service_id: percent up}`` over ``[start, end)`` by ``WEIGHTS`` (the reports' figure).
    A window reaching past ``now`` counts what is to come as up, as a day's figure does."""
    ids = _service_ids(services)
    total = (end - start).total_seconds()
    if total <= 0:
        return dict.fromkeys(ids, 100.0)
    found = _spans(ids, _epoch(start), _epoch(end), _epoch(now or timezone.now())) if ids else {}
    result = {}
    for pk in ids:
        lost = sum(WEIGHTS[s] * (e - b) for b, e, s in found.get(pk, ()))
        result[pk] = max(0.0, 100.0 * (1 - lost / total))
    return result


def window_percent(figures: list[DayFigure]) -> float:
    """The uptime over the days of ``figures`` (the page's 90-day figure per component)."""
    if not figures:
        return 100.0
    return sum(f.uptime for f in figures) / len(figures)


def shown(percent: float) -> str:
    """A percent for people: two decimals, never rounded up to 100.00% while anything was
    lost (99.999% reads 99.99%)."""
    floored = int(percent * 100) / 100
    return f"{floored:.2f}%"


def history_days(today: date, days: int = HISTORY_DAYS) -> tuple[date, date]:
    return today - timedelta(days=days - 1), today
