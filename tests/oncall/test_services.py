"""The schedule services against the database: bad input names the field and writes
nothing; roster versions rewrite neither the past nor the shift in progress; skips and
overrides; history attribution."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from ircore.errors import ConflictError, RuleError
from oncall import services
from oncall.models import Layer, LayerRoster, Override
from oncall.selectors import on_call_now, schedule_shifts

from .conftest import START, T0, at

pytestmark = pytest.mark.django_db


def on_layer(layer, when):
    rows = on_call_now(at=when)
    for row in rows:
        for entry in row.layers:
            if entry.layer.pk == layer.pk:
                return entry.user.username if entry.user else None
    raise AssertionError("layer not found")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "monthly"}, "kind"),
        ({"kind": "weekly", "every": 2}, "every"),
        ({"kind": "hours", "every": 0}, "every"),
        ({"kind": "hours", "every": 400}, "every"),
        ({"active_from": time(9)}, "active_until"),
        ({"active_days": "68"}, "active_days"),
        ({"start_date": "2025-03-03"}, "start_date"),
        ({"name": " "}, "name"),
        ({"level": 0}, "level"),
    ],
)
def test_bad_layer_values_name_the_field_and_write_nothing(make_layer, values, field):
    with pytest.raises(RuleError) as caught:
        make_layer(**values)
    assert caught.value.field == field
    assert not Layer.objects.exists()


def test_level_and_name_are_unique_in_a_schedule(make_layer):
    make_layer(name="Primary", level=1)
    with pytest.raises(RuleError) as caught:
        make_layer(name="Backup", level=1)
    assert caught.value.field == "level" and "Primary" in caught.value.message
    with pytest.raises(RuleError) as caught:
        make_layer(name="Primary", level=2)
    assert caught.value.field == "name"


def test_unknown_time_zone_is_refused(schedule, crew):
    with pytest.raises(RuleError) as caught:
        services.schedule_update(schedule=schedule, by=crew.boss, time_zone="Mars/Olympus")
    assert caught.value.field == "time_zone"


def test_roster_from_next_week_keeps_this_week(make_layer, crew):
    layer = make_layer([crew.alice, crew.bob])
    now = at(days=2)  # Wednesday of alice's week
    services.roster_set(
        layer=layer,
        effective_from=START + timedelta(days=3),  # Thursday: takes over Monday 10th
        members=[crew.carol, crew.bob],
        by=crew.boss,
        accept_warnings=True,
        now=now,
    )
    assert on_layer(layer, at(days=6)) == "alice"  # this week untouched
    # bob would have been next; he stays in the new roster, so it is his turn, then carol.
    assert on_layer(layer, at(days=7, hours=1)) == "bob"
    assert on_layer(layer, at(days=14, hours=1)) == "carol"


def test_roster_that_would_rewrite_the_shift_in_progress_is_refused(make_layer, crew):
    layer = make_layer([crew.alice, crew.bob])
    with pytest.raises(RuleError) as caught:
        services.roster_set(
            layer=layer,
            effective_from=START,
            members=[crew.carol],
            by=crew.boss,
            now=at(days=1),
        )
    assert caught.value.field == "effective_from"
    assert LayerRoster.objects.filter(layer=layer).count() == 1


def test_roster_refuses_duplicates_and_inactive_people(make_layer, crew):
    layer = make_layer([crew.alice, crew.bob])
    for members in ([crew.alice, crew.alice], [crew.dave]):
        if members == [crew.dave]:
            crew.dave.is_active = False
            crew.dave.save()
        with pytest.raises(RuleError) as caught:
            services.roster_set(
                layer=layer,
                effective_from=START + timedelta(days=20),
                members=members,
                by=crew.boss,
                now=T0,
            )
        assert caught.value.field == "members"


def test_in_force_roster_cannot_be_deleted_but_a_future_one_can(make_layer, crew):
    layer = make_layer([crew.alice, crew.bob])
    later = services.roster_set(
        layer=layer,
        effective_from=START + timedelta(days=14),
        members=[crew.carol, crew.dave],
        by=crew.boss,
        accept_warnings=True,
        now=T0,
    ).obj
    with pytest.raises(ConflictError):
        services.roster_delete(roster=layer.rosters.get(effective_from=START), by=crew.boss, now=T0)
    services.roster_delete(roster=later, by=crew.boss, accept_warnings=True, now=T0)
    assert list(layer.rosters.values_list("effective_from", flat=True)) == [START]


def test_history_records_who_changed_the_rotation(make_layer, crew):
    layer = make_layer([crew.alice, crew.bob])
    services.layer_update(layer=layer, by=crew.boss, handoff_time=time(10), now=T0)
    latest = layer.history.first()
    assert latest.history_user == crew.boss and latest.handoff_time == time(10)
    roster = layer.rosters.get()
    assert roster.history.first().history_user == crew.boss


def test_skip_needs_a_participant_and_days_still_to_come(make_layer, crew):
    layer = make_layer([crew.alice, crew.bob], kind="daily")
    with pytest.raises(RuleError) as caught:
        services.skip_add(
            layer=layer, user=crew.dave, day=START + timedelta(days=3), by=crew.boss, now=T0
        )
    assert caught.value.field == "user"
    with pytest.raises(RuleError) as caught:
        services.skip_add(layer=layer, user=crew.bob, day=START, by=crew.boss, now=at(days=2))
    assert caught.value.field == "day"
    services.skip_add(
        layer=layer, user=crew.bob, day=START + timedelta(days=1), by=crew.boss, now=T0
    )
    # Tuesday was bob's: alice covers, and Wednesday is hers as always.
    assert on_layer(layer, at(days=1, hours=2)) == "alice"
    assert on_layer(layer, at(days=3, hours=2)) == "bob"


def test_override_rules_and_effect(make_layer, crew):
    layer = make_layer([crew.alice, crew.bob])
    naive = datetime(2025, 3, 4, 12)
    with pytest.raises(RuleError) as caught:
        services.override_create(
            layer=layer, user=crew.dave, start=naive, end=at(days=2), by=crew.bob, now=T0
        )
    assert caught.value.field == "start"
    with pytest.raises(RuleError) as caught:
        services.override_create(
            layer=layer, user=crew.dave, start=at(days=-3), end=at(days=-2), by=crew.bob, now=T0
        )
    assert caught.value.field == "end"
    with pytest.raises(RuleError) as caught:
        services.override_create(
            layer=layer, user=crew.dave, start=at(days=2), end=at(days=1), by=crew.bob, now=T0
        )
    assert caught.value.field == "end"
    assert not Override.objects.exists()

    first = services.override_create(
        layer=layer, user=crew.dave, start=at(days=1), end=at(days=2), by=crew.bob, now=T0
    )
    services.override_create(
        layer=layer,
        user=crew.carol,
        start=at(days=1, hours=6),
        end=at(days=1, hours=8),
        by=crew.boss,
        now=T0 + timedelta(minutes=1),
    )
    assert on_layer(layer, at(days=1, hours=1)) == "dave"
    assert on_layer(layer, at(days=1, hours=7)) == "carol"  # the later override wins
    assert on_layer(layer, at(days=1, hours=9)) == "dave"
    assert first.history.first().history_user == crew.bob
    with pytest.raises(ConflictError):
        services.override_delete(override=first, by=crew.boss, now=at(days=1, hours=1))


def test_time_zone_change_moves_hand_offs_to_the_new_clock(make_layer, schedule, crew):
    layer = make_layer([crew.alice, crew.bob], kind="daily")
    services.schedule_update(schedule=schedule, by=crew.boss, time_zone="America/New_York", now=T0)
    schedule.refresh_from_db()
    shifts = schedule_shifts(schedule=schedule, start=at(days=1), end=at(days=3))
    starts = [s.start for s in shifts.layers[0].spans]
    assert datetime(2025, 3, 4, 14, tzinfo=UTC) in starts  # 09:00 EST
    assert shifts.layers[0].layer == layer


def test_layers_start_on_their_date_and_shifts_clip_to_the_range(make_layer, schedule, crew):
    make_layer([crew.alice, crew.bob], start_date=date(2025, 3, 10))
    shifts = schedule_shifts(schedule=schedule, start=T0, end=at(days=8))
    assert [(s.user_id, s.start) for s in shifts.final] == [(crew.alice.pk, at(days=7))]
