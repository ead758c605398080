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

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Exists, Max, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents.models import Incident, IncidentService

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
DAY = 86_400
HISTORY_DAYS = 90
# An entry is replaced when its key changes; the limit bounds what a race can leave: a change
# committed after a later-numbered one (concurrent transactions) may not move the key.
CACHE_SECONDS = 300


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


def _service_ids(services: Iterable) -> list[int]:
    return sorted({getattr(s, "pk", s) for s in services})


def _impact_from():
    return Coalesce("incident__impact_started_at", "incident__detected_at", "incident__declared_at")


def timelines(services: Iterable, start: datetime, end: datetime, *, now: datetime | None = None):
    """``{service_id: [(start, end, status), ...]}``: when each service was at each status
    other than operational within ``[start, end)``, from real incidents, non-overlapping and
    in order (the worst status where incidents overlap). Two queries."""
    now = now or timezone.now()
    ids = _service_ids(services)
    if not ids or start >= end:
        return {}
    overlapping = Q(incident__is_drill=False, service_id__in=ids) & (
        Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gt=start)
    )
    history_model = IncidentService.history.model
    history = (
        history_model.objects.filter(overlapping)
        .annotate(impact_from=_impact_from())
        .filter(impact_from__lt=end)
        .order_by("id", "history_date", "history_id")
        .values_list(
            "id",
            "service_id",
            "status",
            "history_type",
            "history_date",
            "impact_from",
            "incident__resolved_at",
            "incident__created_at",
        )
    )
    rows: dict[int, list[tuple]] = defaultdict(list)
    for row in history:
        rows[row[0]].append(row)
    current = (
        IncidentService.objects.filter(overlapping)
        .exclude(Exists(history_model.objects.filter(id=OuterRef("pk"))))
        .annotate(impact_from=_impact_from())
        .filter(impact_from__lt=end)
        .values_list("service_id", "status", "impact_from", "incident__resolved_at")
    )
    segments: dict[int, list[Segment]] = defaultdict(list)
    for service_id, status, impact_from, resolved in current:
        _add(segments[service_id], impact_from, resolved or now, status, impact_from, start, end)
    for records in rows.values():
        _, service_id, _, _, _, impact_from, resolved, created = records[0]
        closes = resolved or now
        for i, (_, _, status, kind, when, *_rest) in enumerate(records):
            if kind == "-":
                break
            begins = impact_from if i == 0 and when <= created + DECLARATION_SLACK else when
            ends = records[i + 1][4] if i + 1 < len(records) else closes
            _add(segments[service_id], begins, ends, status, impact_from, start, end, closes)
    return {service_id: _worst_over_time(found) for service_id, found in segments.items()}


def _add(found, begins, ends, status, impact_from, start, end, closes=None) -> None:
    if status == Status.OPERATIONAL:
        return
    begins = max(begins, impact_from, start)
    ends = min(ends, closes or ends, end)
    if begins < ends:
        found.append((begins, ends, status))


def _worst_over_time(segments: list[Segment]) -> list[Segment]:
    """Merge possibly overlapping segments into one timeline holding, at each moment, the
    worst status of those that cover it (a sweep over their starts and ends)."""
    events = []
    for begins, ends, status in segments:
        events.append((begins, 1, _RANK[status]))
        events.append((ends, -1, _RANK[status]))
    events.sort(key=lambda e: (e[0], e[1]))
    counts = [0, 0, 0, 0]
    merged: list[Segment] = []
    since, held = None, 0
    for when, step, rank in events:
        counts[rank] += step
        now_worst = max((r for r in (3, 2, 1) if counts[r] > 0), default=0)
        if now_worst != held:
            if held and since is not None and since < when:
                _append(merged, since, when, _BY_RANK[held])
            since, held = when, now_worst
    return merged


def _append(merged: list[Segment], begins, ends, status) -> None:
    if merged and merged[-1][1] == begins and merged[-1][2] == status:
        merged[-1] = (merged[-1][0], ends, status)
    else:
        merged.append((begins, ends, status))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def daily(
    services: Iterable, first_day: date, last_day: date, *, now: datetime | None = None
) -> dict[int, list[DayFigure]]:
    """Per service, one ``DayFigure`` per UTC day from ``first_day`` to ``last_day``."""
    ids = _service_ids(services)
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    figures = {pk: {day: DayFigure(day) for day in days} for pk in ids}
    found = timelines(ids, _day_start(first_day), _day_start(last_day + timedelta(days=1)), now=now)
    for service_id, segments in found.items():
        for begins, ends, status in segments:
            day = begins.astimezone(UTC).date()
            while day <= last_day and _day_start(day) < ends:
                lo = max(begins, _day_start(day))
                hi = min(ends, _day_start(day + timedelta(days=1)))
                if hi > lo:
                    down = figures[service_id][day].down
                    down[status] = down.get(status, 0.0) + (hi - lo).total_seconds()
                day += timedelta(days=1)
    return {pk: list(by_day.values()) for pk, by_day in figures.items()}


def uptime_percent(
    services: Iterable, start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[int, float]:
    """``{service_id: percent up}`` over ``[start, end)`` by ``WEIGHTS`` (the reports' figure).
    A window reaching past ``now`` counts what is to come as up, as a day's figure does."""
    ids = _service_ids(services)
    total = (end - start).total_seconds()
    if total <= 0:
        return dict.fromkeys(ids, 100.0)
    found = timelines(ids, start, end, now=now)
    result = {}
    for pk in ids:
        lost = sum(WEIGHTS[s] * (e - b).total_seconds() for b, e, s in found.get(pk, ()))
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


def data_marks() -> tuple:
    """The last history row of incidents and of their affected services: every change a person
    makes to what the page derives from lands there, so together they change whenever the
    page's derived figures may (two index-only maxima)."""
    return (
        Incident.history.model.objects.aggregate(last=Max("history_id"))["last"],
        IncidentService.history.model.objects.aggregate(last=Max("history_id"))["last"],
    )


def cached(name: str, parts: tuple, compute):
    """``compute()``, kept in the cache under ``name`` and ``parts`` (which must name
    everything the result depends on)."""
    raw = repr(parts).encode()
    key = f"comms.status.{name}:" + hashlib.sha256(raw).hexdigest()
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, CACHE_SECONDS)
    return found


def page_daily(
    services: Iterable,
    first_day: date,
    last_day: date,
    *,
    marks: tuple,
    live: bool,
    now: datetime | None = None,
) -> dict[int, list[DayFigure]]:
    """``daily`` for the status page, cached under a key that changes with everything the
    figures are built from: ``data_marks()``, the days and the services, and, while an
    incident is open (``live``), the current minute (an open outage grows by the minute).
    The page is what everyone opens during an outage; it must not rebuild 90 days of history
    per visit. One query on a hit (the cache's, none with Redis)."""
    now = now or timezone.now()
    ids = _service_ids(services)
    minute = now.replace(second=0, microsecond=0).isoformat() if live else ""
    return cached(
        "uptime",
        (marks, first_day, last_day, ids, minute),
        lambda: daily(ids, first_day, last_day, now=now),
    )
