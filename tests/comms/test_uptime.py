"""Uptime over a known history, built through the incident services with the clock pinned
(``time_machine``), so simple-history records the changes when the story says they happened.

The story, on 2025-03-14 (day D) unless said (UTC):
- A: impact from 09:30, declared 10:00 (degraded), major at 10:30, partial at 11:00,
  resolved 12:00. A second incident on A from 10:45 (partial) to 11:30 overlaps it.
  C is added to the first incident at 11:30 at major outage.
- B: declared 23:00 and set to major at once, resolved D+1 01:00 (spans midnight).
- A drill puts A at major outage 14:00-16:00 and must not count.
- E: declared 08:00 with F, taken off at 09:00 (removed), the incident resolved 10:00.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from comms.status import uptime
from incidents import services as incident_services

from .statuskit import declare, service

pytestmark = pytest.mark.django_db

D = date(2025, 3, 14)


def t(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return datetime(2025, 3, 14 + day, hour, minute, tzinfo=UTC)


def _at(when):
    return time_machine.travel(when, tick=False)


def _set(incident, svc, status, when):
    with _at(when):
        incident_services.affected_service_set(
            incident=incident, service=svc, status=status, user=None, now=when
        )


def _resolve(incident, when):
    with _at(when):
        incident_services.incident_set_status(
            incident=incident, status="resolved", user=None, now=when
        )


@pytest.fixture
def story():
    a, b, c = service("A"), service("B"), service("C")
    e, f = service("E"), service("F")
    with _at(t(10)):
        first = declare(a, now=t(10), impact_started_at=t(9, 30), detected_at=t(9, 45))
    _set(first, a, "major_outage", t(10, 30))
    _set(first, a, "partial_outage", t(11))
    with _at(t(10, 45)):
        second = declare(a, now=t(10, 45))
    _set(second, a, "partial_outage", t(10, 45))
    _set(first, c, "major_outage", t(11, 30))
    _resolve(second, t(11, 30))
    _resolve(first, t(12))

    with _at(t(23)):
        night = declare(b, now=t(23))
    _set(night, b, "major_outage", t(23))
    _resolve(night, t(1, day=1))

    with _at(t(14)):
        drill = declare(a, now=t(14), is_drill=True, title="Game day")
    _set(drill, a, "major_outage", t(14))
    _resolve(drill, t(16))

    with _at(t(8)):
        both = declare(e, f, now=t(8))
    _set(both, e, "major_outage", t(8))
    _set(both, f, "major_outage", t(8))
    with _at(t(9)):
        incident_services.affected_service_remove(incident=both, service=e, user=None, now=t(9))
    _resolve(both, t(10))
    return a, b, c, e, f


def test_timelines_follow_the_recorded_changes(story):
    a, b, c, e, f = story
    found = uptime.timelines([a, b, c, e, f], t(0), t(0, day=2), now=t(0, day=3))
    assert found[a.pk] == [
        (t(9, 30), t(10, 30), "degraded"),  # from impact start, not from the declaration
        (t(10, 30), t(11), "major_outage"),
        (t(11), t(12), "partial_outage"),  # the overlapping partial never counts twice
    ]
    assert found[c.pk] == [(t(11, 30), t(12), "major_outage")]  # from when it was added
    assert found[b.pk] == [(t(23), t(1, day=1), "major_outage")]
    assert found[e.pk] == [(t(8), t(9), "major_outage")]  # until it was taken off
    assert found[f.pk] == [(t(8), t(10), "major_outage")]


def test_day_figures(story):
    a, b, c, e, f = story
    figures = uptime.daily([a, b, c], D, D + timedelta(days=1), now=t(0, day=3))
    day_a, next_a = figures[a.pk]
    # Lost: 30 min at major (1800 s) + 60 min at partial counted 30% (1080 s); degraded: 0.
    assert day_a.down == {"degraded": 3600, "major_outage": 1800, "partial_outage": 3600}
    assert day_a.uptime == pytest.approx(100 * (1 - 2880 / 86400))
    assert day_a.worst == "major_outage"
    assert next_a.uptime == 100.0 and next_a.worst == "operational"
    day_b, next_b = figures[b.pk]
    assert day_b.uptime == pytest.approx(100 * (1 - 3600 / 86400))
    assert next_b.uptime == pytest.approx(100 * (1 - 3600 / 86400))
    assert figures[c.pk][0].uptime == pytest.approx(100 * (1 - 1800 / 86400))


def test_uptime_percent_over_a_window(story):
    a, b, c, e, f = story
    two_days = uptime.uptime_percent([a, b], t(0), t(0, day=2), now=t(0, day=3))
    assert two_days[a.pk] == pytest.approx(100 * (1 - 2880 / 172800))
    assert two_days[b.pk] == pytest.approx(100 * (1 - 7200 / 172800))
    # A window cutting the incident counts only its part: 10:00-11:00 on A is 30 min major.
    hour = uptime.uptime_percent([a], t(10), t(11), now=t(0, day=3))
    assert hour[a.pk] == pytest.approx(50.0)


def test_degraded_alone_is_up_but_colours_the_day():
    x = service("X")
    with _at(t(10)):
        incident = declare(x, now=t(10))  # declared degraded
    _resolve(incident, t(13))
    (day,) = uptime.daily([x], D, D, now=t(0, day=1))[x.pk]
    assert day.uptime == 100.0
    assert day.worst == "degraded"


def test_an_open_incident_counts_until_now():
    x = service("X")
    with _at(t(10)):
        incident = declare(x, now=t(10))
    _set(incident, x, "major_outage", t(10))
    (day,) = uptime.daily([x], D, D, now=t(16))[x.pk]
    assert day.down == {"major_outage": 6 * 3600}


def test_rows_without_history_hold_their_status_over_the_impact_window():
    """Rows written in bulk (no history) count at their current status."""
    from incidents.models import IncidentService

    x = service("X")
    with _at(t(10)):
        incident = declare(x, now=t(10), impact_started_at=t(9))
    _resolve(incident, t(12))
    IncidentService.history.model.objects.all().delete()
    IncidentService.objects.filter(incident=incident).update(status="major_outage")
    assert uptime.timelines([x], t(0), t(0, day=1))[x.pk] == [(t(9), t(12), "major_outage")]


def test_shown_never_rounds_up_to_a_hundred():
    assert uptime.shown(99.9999) == "99.99%"
    assert uptime.shown(100.0) == "100.00%"
    assert uptime.shown(96.66667) == "96.66%"
