"""iCalendar feeds (RFC 5545), made with the ``icalendar`` library: one per schedule (every
layer's shifts) and one per person (their shifts everywhere). Shifts and nothing else: who,
which layer, when; no incidents, no phone numbers."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from icalendar import Calendar, Event

from .models import FeedToken
from .rotation import OVERRIDE, Span
from .selectors import person_shifts, schedule_shifts

PAST = timedelta(days=14)
AHEAD = timedelta(days=90)
PRODID = "-//Incident response//On call//EN"


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    start: datetime
    end: datetime
    summary: str


def feed_range(now: datetime) -> tuple[datetime, datetime]:
    """What a feed covers: two weeks back (for the record) and ninety days ahead, from the
    start of the current hour so a calendar's repeated fetches agree."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    return hour - PAST, hour + AHEAD


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _uid(span: Span) -> str:
    return f"oncall-{span.layer_id}-{span.user_id}-{span.start:%Y%m%dT%H%M%SZ}@{_host()}"


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def feed_events(token: FeedToken, now: datetime) -> tuple[str, list[FeedEvent]]:
    """The calendar's name and its events for ``token`` at ``now``."""
    start, end = feed_range(now)
    if token.schedule_id:
        shifts = schedule_shifts(schedule=token.schedule, start=start, end=end)
        events = []
        for row in shifts.layers:
            for span in row.spans:
                who = _name(shifts.people[span.user_id])
                extra = " (override)" if span.kind == OVERRIDE else ""
                events.append(
                    FeedEvent(_uid(span), span.start, span.end, f"{row.layer.name}: {who}{extra}")
                )
        events.sort(key=lambda e: (e.start, e.uid))
        return f"On call: {token.schedule.name}", events
    events = [
        FeedEvent(_uid(span), span.start, span.end, f"On call: {layer}")
        for layer, span in person_shifts(user=token.user, start=start, end=end)
    ]
    return f"On call: {_name(token.user)}", events


def render_calendar(name: str, events: list[FeedEvent], now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", now)
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", item.summary)
        # On call is not busy: a calendar should not block the time for meetings.
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
