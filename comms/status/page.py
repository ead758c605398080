"""Everything ``/status/`` and ``/status.json`` show, built once per request by ``build``
so that the page and its JSON never disagree.

What is derived from history is cached (``comms.status.cache``): the 90-day figures and
bars, rebuilt at once when anything they derive from changes and otherwise at most every
``HISTORY_SECONDS`` (``LIVE_SECONDS`` while an incident is open: its outage grows), by one
process at a time while the others answer with the figures before (``rebuild_or_stale``); the
component states and incident lists, rebuilt at once on a change and at most
``CURRENT_SECONDS`` behind whatever happens. The services and maintenance windows are read
on every request. A fixed number of queries whatever the size of the history: four on a hit
(services, maintenance, the data marks, one cache read; three with Redis).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from comms.status import cache, selectors, uptime
from comms.status import components as states
from incidents.models import Incident

RECENT_DAYS = 14  # resolved incidents listed under "Past incidents"
RECENT_MAX = 20
ACTIVE_MAX = 50
MAINTENANCE_MAX = 20
HISTORY_SECONDS = 300
LIVE_SECONDS = 60
CURRENT_SECONDS = 15


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


# A bar's class by the day's worst status; an operational day has none (the default colour).
BAR_CLASS = {
    states.Status.OPERATIONAL: "",
    states.Status.DEGRADED: ' class="d1"',
    states.Status.PARTIAL_OUTAGE: ' class="d2"',
    states.Status.MAJOR_OUTAGE: ' class="d3"',
}


def bar_title(figure: uptime.DayFigure) -> str:
    """ "18 Mar 2025 · 90.00% · major outage 2 h 24 min, degraded performance 20 min"."""
    title = f"{figure.day:%d %b %Y} · {uptime.shown(figure.uptime)}"
    if figure.down:
        worst_first = sorted(figure.down.items(), key=lambda i: -states.RANK[i[0]])
        title += " · " + ", ".join(
            f"{states.LABEL[status].lower()} {_duration(seconds)}"
            for status, seconds in worst_first
        )
    return title


def bars_html(figures: list[uptime.DayFigure]) -> SafeString:
    """The day bars as list items, oldest first, in as few bytes as they can be (4,500 of
    them on a page of 50 components). Joined here rather than looped over in the template,
    whose per-variable lookups were most of the page's time. Every value is escaped."""
    return mark_safe(
        "".join(f'<li{BAR_CLASS[f.worst]} title="{escape(bar_title(f))}"></li>' for f in figures)
    )


@dataclass
class Component:
    id: int
    name: str
    state: states.ComponentState
    percent: float  # over the page's days
    bars_html: SafeString

    @property
    def uptime(self) -> str:
        return uptime.shown(self.percent)


@dataclass
class Maintenance:
    """Windows with the same start and end, for public services, shown as one: when, and
    which components. The window's reason is written for responders and is not shown."""

    id: int
    start: datetime
    end: datetime
    in_progress: bool
    component_ids: list[int] = field(default_factory=list)
    component_names: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"Scheduled maintenance: {', '.join(self.component_names)}"


@dataclass
class Page:
    name: str
    now: datetime
    indicator: str
    description: str
    components: list[Component]
    active: list[selectors.PublicIncident]
    recent: list[selectors.PublicIncident]
    maintenance: list[Maintenance]
    days: int


def page_name() -> str:
    """The page's public name (``STATUS_PAGE_NAME``): its title, feeds and e-mails."""
    return settings.STATUS_PAGE_NAME


def _maintenance(service_ids: list[int], now: datetime) -> list[Maintenance]:
    windows = (
        states.maintenance_windows(service_ids, now)
        .select_related("service")
        .only("id", "start", "end", "service__id", "service__name", "service__public_name")
    )
    grouped: dict[tuple, Maintenance] = {}
    for window in windows[: MAINTENANCE_MAX * 5]:
        key = (window.start, window.end)
        item = grouped.get(key)
        if item is None:
            if len(grouped) == MAINTENANCE_MAX:
                continue
            item = grouped[key] = Maintenance(
                id=window.pk, start=window.start, end=window.end, in_progress=window.start <= now
            )
        item.component_ids.append(window.service_id)
        item.component_names.append(window.service.display_public_name)
    return list(grouped.values())


def _current(ids: list[int], now: datetime) -> dict:
    """The component states from open incidents, and the incidents the page lists."""
    public = selectors.public_notices()
    active = selectors.public_incident_list(
        Incident.objects.real()
        .open()
        .filter(pk__in=public.values("incident_id"))
        .order_by("-declared_at", "-id")[:ACTIVE_MAX]
    )
    since = now - timedelta(days=RECENT_DAYS)
    recent = selectors.public_incident_list(
        Incident.objects.real()
        .not_open()
        .filter(pk__in=public.filter(published_at__gte=since).values("incident_id"))
        .order_by("-resolved_at", "-id")[:RECENT_MAX]
    )
    return {"statuses": states.open_statuses(ids), "active": active, "recent": recent}


def _history(ids: list[int], now: datetime, *, bars: bool) -> tuple[dict, dict]:
    """``({service_id: percent}, {service_id: bars})`` over the page's days."""
    first, last = uptime.history_days(now.astimezone(UTC).date())
    figures = uptime.daily(ids, first, last, now=now)
    percents = {pk: uptime.window_percent(days) for pk, days in figures.items()}
    drawn = {pk: bars_html(days) for pk, days in figures.items()} if bars else {}
    return percents, drawn


def build(now: datetime | None = None, *, bars: bool = True) -> Page:
    """The page; without ``bars`` (the JSON) the day bars are neither read nor built."""
    now = now or timezone.now()
    services = list(selectors.public_components().only("id", "name", "public_name", "tier"))
    ids = [s.pk for s in services]
    maintenance = _maintenance(ids, now)
    running = {pk for m in maintenance if m.in_progress for pk in m.component_ids}
    marks = cache.data_marks()
    day = now.astimezone(UTC).date()
    current_key = cache.key("current", (marks, ids))
    keys = {
        "current": current_key,
        # Two of each: one while an incident is open (rebuilt every minute), one when not.
        **{
            f"{what}:{live}": cache.key(what, (marks, ids, day, live))
            for what in ("uptime", "bars")
            for live in (True, False)
            if bars or what == "uptime"
        },
    }
    found = cache.read(list(keys.values()))
    current = found.get(current_key)
    if current is None:
        current = _current(ids, now)
        cache.write({current_key: current}, CURRENT_SECONDS)
    live = any(states.RANK[s] > 0 for s in current["statuses"].values())
    percents = found.get(keys[f"uptime:{live}"])
    drawn = found.get(keys[f"bars:{live}"]) if bars else {}
    if percents is None or drawn is None:
        stale_key = cache.key("history-latest", (ids, day, bars))
        (percents, drawn), fresh = cache.rebuild_or_stale(
            stale_key, lambda: _history(ids, now, bars=bars)
        )
        if fresh:
            entries = {keys[f"uptime:{live}"]: percents}
            if bars:
                entries[keys[f"bars:{live}"]] = drawn
            cache.write(entries, LIVE_SECONDS if live else HISTORY_SECONDS)
    found_states = states.states_from(current["statuses"], ids, under_maintenance=running)
    components = [
        Component(
            s.pk,
            s.display_public_name,
            found_states[s.pk],
            percents[s.pk],
            drawn.get(s.pk, mark_safe("")),
        )
        for s in services
    ]
    indicator, description = states.overall(found_states.values())
    return Page(
        name=page_name(),
        now=now,
        indicator=indicator,
        description=description,
        components=components,
        active=current["active"],
        recent=current["recent"],
        maintenance=maintenance,
        days=uptime.HISTORY_DAYS,
    )
