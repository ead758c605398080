"""Everything ``/status/`` and ``/status.json`` show, built once per request by ``build``
so that the page and its JSON never disagree. A fixed number of queries, whatever the size
of the history (the uptime figures come from ``uptime.page_daily``'s cache)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from comms.status import components as states
from comms.status import selectors, uptime
from incidents.models import Incident

RECENT_DAYS = 14  # resolved incidents listed under "Past incidents"
RECENT_MAX = 20
ACTIVE_MAX = 50
MAINTENANCE_MAX = 20


@dataclass
class Bar:
    figure: uptime.DayFigure

    @property
    def css(self) -> str:
        return states.PUBLIC_CODE[self.figure.worst]

    @property
    def title(self) -> str:
        f = self.figure
        words = [f"{f.day:%d %b %Y}", uptime.shown(f.uptime)]
        for status, seconds in sorted(f.down.items(), key=lambda i: -states.RANK[i[0]]):
            words.append(f"{states.LABEL[status]} {_duration(seconds)}")
        return " · ".join(words)


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@dataclass
class Component:
    id: int
    name: str
    state: states.ComponentState
    days: list[uptime.DayFigure]

    @property
    def uptime(self) -> str:
        return uptime.shown(uptime.window_percent(self.days))

    @property
    def bars(self) -> list[Bar]:
        return [Bar(day) for day in self.days]


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
    return getattr(settings, "STATUS_PAGE_NAME", "Status")


def _maintenance(services, now: datetime) -> list[Maintenance]:
    windows = (
        states.maintenance_windows(services, now)
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


def build(now: datetime | None = None) -> Page:
    now = now or timezone.now()
    services = list(selectors.public_components().only("id", "name", "public_name", "tier"))
    ids = [s.pk for s in services]
    maintenance = _maintenance([s.pk for s in services], now)
    running = {pk for m in maintenance if m.in_progress for pk in m.component_ids}
    found = states.component_states(ids, under_maintenance=running)
    live = any(s.status in states.RANK and states.RANK[s.status] > 0 for s in found.values())
    first, last = uptime.history_days(now.astimezone(UTC).date())
    figures = uptime.page_daily(ids, first, last, marks=uptime.data_marks(), live=live, now=now)
    components = [
        Component(s.pk, s.display_public_name, found[s.pk], figures.get(s.pk, [])) for s in services
    ]
    indicator, description = states.overall(found.values())
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
    return Page(
        name=page_name(),
        now=now,
        indicator=indicator,
        description=description,
        components=components,
        active=active,
        recent=recent,
        maintenance=maintenance,
        days=uptime.HISTORY_DAYS,
    )
