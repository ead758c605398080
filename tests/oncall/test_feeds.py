"""iCalendar feeds: behind a token stored hashed, parsed back with the same library, equal to
the shifts selector over the same range, nothing but shifts; revoked or unknown: 404."""

import pytest
import time_machine
from django.test import Client
from icalendar import Calendar

from ircore.errors import RuleError
from oncall import services
from oncall.feeds import feed_range
from oncall.models import FeedToken
from oncall.selectors import person_shifts, schedule_shifts

from .conftest import T0, at

pytestmark = pytest.mark.django_db
NOW = at(days=1, hours=3)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def layers(make_layer, crew):
    primary = make_layer([crew.alice, crew.bob], name="Primary")
    secondary = make_layer([crew.carol, crew.alice], name="Secondary", kind="daily")
    services.override_create(
        layer=primary, user=crew.dave, start=at(days=2), end=at(days=3), by=crew.boss, now=T0
    )
    return primary, secondary


def events(body: bytes):
    calendar = Calendar.from_ical(body)
    return [
        (str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend"))
        for e in calendar.walk("VEVENT")
    ]


def fetch(token: str):
    return Client().get(f"/oncall/feeds/{token}.ics")


def test_schedule_feed_matches_the_shifts(schedule, layers, crew, clock):
    row, token = services.feed_token_create(by=crew.boss, schedule=schedule)
    assert row.token_hash != token and token not in row.token_hash
    response = fetch(token)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    start, end = feed_range(NOW)
    shifts = schedule_shifts(schedule=schedule, start=start, end=end)
    expected = sorted(
        (
            f"{r.layer.name}: {shifts.people[s.user_id].get_full_name()}"
            + (" (override)" if s.kind == "override" else ""),
            s.start,
            s.end,
        )
        for r in shifts.layers
        for s in r.spans
    )
    got = events(response.content)
    assert sorted(got) == expected and len(got) > 10
    assert ("Primary: Dave Test (override)", at(days=2), at(days=3)) in got
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["version"]) == "2.0" and calendar["prodid"]
    uids = [str(e["uid"]) for e in calendar.walk("VEVENT")]
    assert len(set(uids)) == len(uids)


def test_person_feed_shows_their_shifts_on_every_layer_and_nothing_else(layers, crew, clock):
    _, token = services.feed_token_create(by=crew.alice, person=crew.alice)
    body = fetch(token).content
    start, end = feed_range(NOW)
    expected = sorted(
        (f"On call: {layer}", s.start, s.end)
        for layer, s in person_shifts(user=crew.alice, start=start, end=end)
    )
    got = events(body)
    assert sorted(got) == expected
    assert {summary for summary, _, _ in got} == {
        "On call: Payments on call · Primary",
        "On call: Payments on call · Secondary",
    }
    text = body.decode()
    assert crew.alice.profile.phone not in text and "@alice" not in text
    assert "DESCRIPTION" not in text and "INC-" not in text


def test_revoked_and_unknown_tokens_are_404(schedule, layers, crew, clock):
    row, token = services.feed_token_create(by=crew.boss, schedule=schedule)
    services.feed_token_revoke(token=row, by=crew.boss)
    assert fetch(token).status_code == 404
    assert fetch("x" * 43).status_code == 404
    assert Client().get("/oncall/feeds/short.ics").status_code == 404


def test_a_person_gone_takes_their_feed_with_them(layers, crew, clock):
    _, token = services.feed_token_create(by=crew.bob, person=crew.bob)
    crew.bob.is_active = False
    crew.bob.save()
    assert fetch(token).status_code == 404


def test_who_may_make_which_feed(schedule, crew, cast):
    with pytest.raises(RuleError):
        services.feed_token_create(by=crew.alice, schedule=schedule)
    with pytest.raises(RuleError):
        services.feed_token_create(by=crew.alice, person=crew.bob)
    with pytest.raises(RuleError):
        services.feed_token_create(by=cast.support, person=cast.support)
    mine, _ = services.feed_token_create(by=crew.alice, person=crew.alice)
    with pytest.raises(RuleError):
        services.feed_token_revoke(token=mine, by=crew.bob)
    services.feed_token_revoke(token=mine, by=crew.alice)
    assert FeedToken.objects.get().history.first().history_user == crew.alice
