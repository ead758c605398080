"""The seeds' rules (``004_*``: "Minimum 2 engineers per rotation (primary + secondary)",
"No more than 1 week per month per engineer") as warnings a manager accepts."""

from datetime import date, timedelta

import pytest

from ircore import roles
from oncall import services
from oncall.models import Layer
from oncall.rules import rotation_warnings

from .conftest import T0

pytestmark = pytest.mark.django_db


def codes(schedule, today=date(2025, 3, 3)):
    return sorted({w.code for w in rotation_warnings(schedule=schedule, today=today)})


def test_a_one_person_rotation_is_refused_until_accepted(schedule, make_layer, crew):
    with pytest.raises(services.WarningsNotAccepted) as caught:
        make_layer([crew.alice], accept_warnings=False)
    found = {w.code for w in caught.value.warnings}
    assert {"few_people", "no_secondary", "over_a_week"} <= found
    assert caught.value.field == "accept_warnings" and caught.value.status_code == 409
    assert not Layer.objects.exists()  # nothing saved

    layer = make_layer([crew.alice], accept_warnings=True)
    assert layer.pk and "few_people" in codes(schedule)


def test_accepted_warnings_are_not_asked_again_only_new_ones(schedule, make_layer, crew):
    layer = make_layer([crew.alice, crew.bob])  # accepted: no secondary, over a week
    accepted = {w.key for w in rotation_warnings(schedule=schedule, today=date(2025, 3, 3))}
    # Renaming brings no new warning: saved without asking.
    services.layer_update(layer=layer, by=crew.boss, name="Primary", now=T0)
    # Dropping to one person from April brings a new one: asked.
    with pytest.raises(services.WarningsNotAccepted) as caught:
        services.roster_set(
            layer=layer, effective_from=date(2025, 4, 1), members=[crew.bob], by=crew.boss, now=T0
        )
    asked = caught.value.warnings
    assert "few_people" in {w.code for w in asked}
    assert not {w.key for w in asked} & accepted  # what was accepted is not asked again


def test_two_weekly_people_are_each_on_call_more_than_a_week_a_month(schedule, make_layer, crew):
    make_layer([crew.alice, crew.bob])
    months = {
        w.key[2]
        for w in rotation_warnings(schedule=schedule, today=date(2025, 3, 3))
        if w.code == "over_a_week" and w.key[1] == crew.alice.pk
    }
    assert months == {"2025-03", "2025-04", "2025-05"}


@pytest.fixture
def ten(make_user):
    return [make_user(f"eng{i}", roles.RESPONDERS) for i in range(10)]


def test_well_staffed_schedule_passes_across_the_autumn_clock_change(schedule, make_layer, ten):
    # Weekly from Monday 1 September 2025: the third person has 20-27 October, the week
    # the clocks go back (169 elapsed hours): still one week on the wall clock.
    make_layer(ten[:5], start_date=date(2025, 9, 1))
    make_layer(ten[5:], start_date=date(2025, 9, 1))
    assert codes(schedule, today=date(2025, 10, 1)) == []


def test_gap_and_working_hours_only(schedule, make_layer, crew, ten):
    from datetime import time

    make_layer(ten[:5], active_from=time(9), active_until=time(17))
    make_layer(ten[5:])
    assert "no_secondary" in codes(schedule)  # nights: the secondary alone
    Layer.objects.filter(level=2).delete()
    assert "gap" in codes(schedule)


def test_warnings_look_past_the_latest_roster_change(schedule, make_layer, crew, ten):
    layer = make_layer(ten[:5])
    make_layer(ten[5:])
    services.roster_set(
        layer=layer,
        effective_from=date(2025, 9, 1),
        members=[crew.alice],
        by=crew.boss,
        accept_warnings=True,
        now=T0 - timedelta(days=1),
    )
    found = rotation_warnings(schedule=schedule, today=date(2025, 3, 3))
    assert {w.key for w in found if w.code == "few_people"} == {
        ("few_people", layer.pk, date(2025, 9, 1))
    }
