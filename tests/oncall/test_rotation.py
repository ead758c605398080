"""The rotation maths on plain values (``oncall.rotation``): no database, explicit instants.

People are small integers; ``A, B, C, D`` read as the participants of a roster.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from oncall.rotation import (
    COVER,
    OVERRIDE,
    LayerPlan,
    OverrideSpec,
    RosterVersion,
    SkipSpec,
    final_spans,
    handoffs,
)

A, B, C, D = 1, 2, 3, 4
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def plan(
    *,
    zone=LONDON,
    start=date(2025, 3, 3),  # a Monday
    handoff=time(9, 0),
    days=None,
    hours=None,
    members=(A, B, C),
    rosters=None,
    **extra,
) -> LayerPlan:
    if days is None and hours is None:
        days = 1
    return LayerPlan(
        layer_id=extra.pop("layer_id", 1),
        level=extra.pop("level", 1),
        zone=zone,
        start_date=start,
        handoff_time=handoff,
        length_days=days,
        length_hours=hours,
        rosters=rosters if rosters is not None else [RosterVersion(start, members)],
        **extra,
    )


def who(spans) -> list[tuple[int, str, str]]:
    """(person, local start, local end) in London, readable in assertions."""
    return [
        (
            s.user_id,
            s.start.astimezone(LONDON).strftime("%a %d %H:%M"),
            s.end.astimezone(LONDON).strftime("%a %d %H:%M"),
        )
        for s in spans
    ]


def people(spans) -> list[int]:
    return [s.user_id for s in spans]


# --- lengths ---------------------------------------------------------------------------------


def test_daily_rotation_hands_off_at_nine_in_order():
    spans = plan(days=1).spans(utc(2025, 3, 3, 9), utc(2025, 3, 7, 9))
    assert who(spans) == [
        (A, "Mon 03 09:00", "Tue 04 09:00"),
        (B, "Tue 04 09:00", "Wed 05 09:00"),
        (C, "Wed 05 09:00", "Thu 06 09:00"),
        (A, "Thu 06 09:00", "Fri 07 09:00"),
    ]


def test_weekly_and_two_weekly_rotations():
    weekly = plan(days=7).spans(utc(2025, 3, 3, 9), utc(2025, 3, 24, 9))
    assert who(weekly) == [
        (A, "Mon 03 09:00", "Mon 10 09:00"),
        (B, "Mon 10 09:00", "Mon 17 09:00"),
        (C, "Mon 17 09:00", "Mon 24 09:00"),
    ]
    fortnightly = plan(days=14, members=(A, B)).spans(utc(2025, 3, 3, 9), utc(2025, 3, 31, 8))
    assert people(fortnightly) == [A, B]
    assert fortnightly[0].end == utc(2025, 3, 17, 9)


def test_every_n_days_and_a_range_starting_mid_shift():
    spans = plan(days=3).spans(utc(2025, 3, 4, 12), utc(2025, 3, 12, 9))
    assert who(spans) == [
        (A, "Tue 04 12:00", "Thu 06 09:00"),  # clipped to the range
        (B, "Thu 06 09:00", "Sun 09 09:00"),
        (C, "Sun 09 09:00", "Wed 12 09:00"),
    ]


def test_hourly_rotation_of_eight_hours():
    spans = plan(hours=8).spans(utc(2025, 3, 3, 9), utc(2025, 3, 4, 9))
    assert who(spans) == [
        (A, "Mon 03 09:00", "Mon 03 17:00"),
        (B, "Mon 03 17:00", "Tue 04 01:00"),
        (C, "Tue 04 01:00", "Tue 04 09:00"),
    ]


def test_nobody_before_the_rotation_starts():
    layer = plan(days=1, start=date(2025, 3, 10))
    assert layer.spans(utc(2025, 3, 3), utc(2025, 3, 10, 9)) == []
    assert people(layer.spans(utc(2025, 3, 3), utc(2025, 3, 10, 10))) == [A]


# --- restrictions ----------------------------------------------------------------------------


def test_working_hours_restriction_leaves_nights_and_weekends_empty():
    layer = plan(
        days=7, active_from=time(9), active_until=time(17), active_days=frozenset({1, 2, 3, 4, 5})
    )
    spans = layer.spans(utc(2025, 3, 3), utc(2025, 3, 11))
    assert who(spans) == [
        (A, f"{day} 09:00", f"{day} 17:00")
        for day in ("Mon 03", "Tue 04", "Wed 05", "Thu 06", "Fri 07")
    ] + [(B, "Mon 10 09:00", "Mon 10 17:00")]


def test_overnight_window_belongs_to_the_day_it_starts_on():
    # Nights from Friday and Saturday only: Fri 21:00-Sat 07:00 and Sat 21:00-Sun 07:00.
    layer = plan(days=7, active_from=time(21), active_until=time(7), active_days=frozenset({5, 6}))
    spans = layer.spans(utc(2025, 3, 3), utc(2025, 3, 10))
    assert who(spans) == [
        (A, "Fri 07 21:00", "Sat 08 07:00"),
        (A, "Sat 08 21:00", "Sun 09 07:00"),
    ]


def test_follow_the_sun_from_two_restricted_layers():
    europe = plan(days=7, members=(A, B), active_from=time(7), active_until=time(19))
    americas = plan(
        days=7, members=(C, D), active_from=time(19), active_until=time(7), layer_id=2, level=2
    )
    start, end = utc(2025, 3, 4), utc(2025, 3, 5)
    final = final_spans({1: europe.spans(start, end), 2: americas.spans(start, end)}, {1: 1, 2: 2})
    assert who(final) == [
        (C, "Tue 04 00:00", "Tue 04 07:00"),
        (A, "Tue 04 07:00", "Tue 04 19:00"),
        (C, "Tue 04 19:00", "Wed 05 00:00"),
    ]


# --- overrides -------------------------------------------------------------------------------


def test_override_across_a_hand_off():
    override = OverrideSpec(7, D, utc(2025, 3, 4, 6), utc(2025, 3, 4, 12), (1,))
    spans = plan(days=1, overrides=[override]).spans(utc(2025, 3, 3, 9), utc(2025, 3, 5, 9))
    assert who(spans) == [
        (A, "Mon 03 09:00", "Tue 04 06:00"),
        (D, "Tue 04 06:00", "Tue 04 12:00"),
        (B, "Tue 04 12:00", "Wed 05 09:00"),
    ]
    assert spans[1].kind == OVERRIDE and spans[1].override_id == 7


def test_an_override_of_an_override_the_later_created_wins():
    first = OverrideSpec(1, C, utc(2025, 3, 3, 10), utc(2025, 3, 3, 14), (1,))
    later = OverrideSpec(2, D, utc(2025, 3, 3, 12), utc(2025, 3, 3, 16), (2,))
    spans = plan(overrides=[later, first]).spans(utc(2025, 3, 3, 9), utc(2025, 3, 3, 18))
    assert who(spans) == [
        (A, "Mon 03 09:00", "Mon 03 10:00"),
        (C, "Mon 03 10:00", "Mon 03 12:00"),
        (D, "Mon 03 12:00", "Mon 03 16:00"),
        (A, "Mon 03 16:00", "Mon 03 18:00"),
    ]
    # Created the other way round, the wider and later one hides the earlier entirely.
    wide = OverrideSpec(3, B, utc(2025, 3, 3, 10), utc(2025, 3, 3, 14), (3,))
    spans = plan(overrides=[first, wide]).spans(utc(2025, 3, 3, 9), utc(2025, 3, 3, 18))
    assert people(spans) == [A, B, A]


def test_override_fills_a_gap_but_not_outside_the_active_hours():
    layer = plan(
        members=(),
        active_from=time(9),
        active_until=time(17),
        overrides=[OverrideSpec(1, D, utc(2025, 3, 3, 8), utc(2025, 3, 3, 20), (1,))],
    )
    assert who(layer.spans(utc(2025, 3, 3), utc(2025, 3, 4))) == [
        (D, "Mon 03 09:00", "Mon 03 17:00")
    ]


# --- skips -----------------------------------------------------------------------------------


def test_skip_is_covered_by_the_next_person_and_the_order_goes_on():
    layer = plan(days=1, skips=[SkipSpec(B, date(2025, 3, 4))])
    spans = layer.spans(utc(2025, 3, 3, 9), utc(2025, 3, 8, 9))
    assert who(spans) == [
        (A, "Mon 03 09:00", "Tue 04 09:00"),
        (C, "Tue 04 09:00", "Wed 05 09:00"),  # C covers B's day ...
        (C, "Wed 05 09:00", "Thu 06 09:00"),  # ... then takes their own
        (A, "Thu 06 09:00", "Fri 07 09:00"),
        (B, "Fri 07 09:00", "Sat 08 09:00"),  # B's next turn is where it always was
    ]
    assert spans[1].kind == COVER and spans[1].covers_user_id == B
    assert spans[2].kind == "rotation"


def test_skip_of_a_day_inside_a_weekly_shift_and_two_skips_at_once():
    layer = plan(
        days=7, skips=[SkipSpec(A, date(2025, 3, 5)), SkipSpec(B, date(2025, 3, 5), days=2)]
    )
    spans = layer.spans(utc(2025, 3, 3, 9), utc(2025, 3, 10, 9))
    # B is skipped too, so C covers A's Wednesday.
    assert who(spans) == [
        (A, "Mon 03 09:00", "Wed 05 09:00"),
        (C, "Wed 05 09:00", "Thu 06 09:00"),
        (A, "Thu 06 09:00", "Mon 10 09:00"),
    ]


# --- roster versions -------------------------------------------------------------------------


def test_roster_change_from_a_date_continues_the_order():
    rosters = [
        RosterVersion(date(2025, 3, 3), (A, B, C)),
        RosterVersion(date(2025, 3, 7), (A, B, C, D)),
    ]
    spans = plan(days=1, rosters=rosters).spans(utc(2025, 3, 3, 9), utc(2025, 3, 12, 9))
    # Mon A, Tue B, Wed C, Thu A (old roster); from Friday B, whose turn it was, then C, D ...
    assert people(spans) == [A, B, C, A, B, C, D, A, B]


def test_removed_person_is_passed_over_and_the_shift_in_progress_is_kept():
    rosters = [
        RosterVersion(date(2025, 3, 3), (A, B, C)),
        RosterVersion(date(2025, 3, 12), (A, C)),  # B leaves from Wednesday 12th
    ]
    spans = plan(days=7, rosters=rosters).spans(utc(2025, 3, 3, 9), utc(2025, 4, 7, 8))
    # Weekly from Monday: the version takes over at the first hand-off on or after the 12th
    # (Monday 17th): it would have been C's turn, so C, then A, C ...
    assert people(spans) == [A, B, C, A, C]
    assert spans[1].end == utc(2025, 3, 17, 9)


def test_a_future_version_rewrites_neither_the_past_nor_this_week():
    before = plan(days=7).spans(utc(2025, 3, 3, 9), utc(2025, 3, 31, 8))
    changed = plan(
        days=7,
        rosters=[
            RosterVersion(date(2025, 3, 3), (A, B, C)),
            RosterVersion(date(2025, 3, 18), (D, C, B, A)),
        ],
    ).spans(utc(2025, 3, 3, 9), utc(2025, 3, 31, 8))
    assert changed[:3] == before[:3]  # up to Monday 24th: unchanged
    assert people(changed)[3] == A  # A's turn stays A's


# --- daylight saving -------------------------------------------------------------------------


def test_london_weekly_hand_off_stays_at_nine_across_both_changes():
    layer = plan(days=7, start=date(2025, 3, 24))
    spring = layer.spans(utc(2025, 3, 24, 9), utc(2025, 4, 7, 8))
    assert [s.start.astimezone(LONDON).time() for s in spring] == [time(9), time(9)]
    assert spring[0].end == utc(2025, 3, 31, 8)  # 09:00 BST
    assert spring[0].end - spring[0].start == timedelta(hours=167)
    autumn = layer.spans(utc(2025, 10, 20, 8), utc(2025, 11, 3, 9))
    assert autumn[0].end == utc(2025, 10, 27, 9)  # 09:00 GMT
    assert autumn[0].end - autumn[0].start == timedelta(hours=169)


def test_new_york_daily_hand_off_at_nine_and_who_is_on_at_an_instant():
    layer = plan(zone=NEW_YORK, days=1, start=date(2025, 3, 7))
    spans = layer.spans(utc(2025, 3, 7, 14), utc(2025, 3, 11, 13))
    assert [s.start.astimezone(NEW_YORK).strftime("%d %H:%M") for s in spans] == [
        "07 09:00",
        "08 09:00",
        "09 09:00",
        "10 09:00",
    ]
    assert spans[1].end - spans[1].start == timedelta(hours=23)  # the night clocks go forward
    # 08:30 local on the 10th (12:30 UTC, EDT) is still the 9th's shift: C, not A.
    assert layer.spans(utc(2025, 3, 10, 12, 30), utc(2025, 3, 10, 12, 31))[0].user_id == C
    autumn = plan(zone=NEW_YORK, days=1, start=date(2025, 10, 31))
    shifts = autumn.spans(utc(2025, 11, 1, 13), utc(2025, 11, 3, 14))
    assert shifts[0].end - shifts[0].start == timedelta(hours=25)
    assert shifts[1].start == utc(2025, 11, 2, 14)  # 09:00 EST


def test_hourly_shifts_are_elapsed_hours_across_a_change():
    layer = plan(zone=NEW_YORK, hours=12, start=date(2025, 3, 8), handoff=time(8))
    spans = layer.spans(utc(2025, 3, 8, 13), utc(2025, 3, 10, 13))
    assert all(s.end - s.start == timedelta(hours=12) for s in spans)
    assert spans[2].start.astimezone(NEW_YORK).time() == time(9)  # 08:00 EST + 24 h


def test_a_hand_off_at_a_time_that_does_not_exist_happens_an_hour_later():
    layer = plan(zone=NEW_YORK, days=1, start=date(2025, 3, 8), handoff=time(2, 30))
    spans = layer.spans(utc(2025, 3, 8, 12), utc(2025, 3, 10, 12))
    assert spans[1].start == utc(2025, 3, 9, 7, 30)  # 03:30 EDT: 02:30 never happens


# --- final and hand-offs ---------------------------------------------------------------------


def test_final_prefers_the_lowest_level_and_falls_back_when_it_is_empty():
    primary = plan(members=(A,), active_days=frozenset({1, 2, 3, 4, 5}), layer_id=1, level=1)
    secondary = plan(members=(B,), layer_id=2, level=2)
    start, end = utc(2025, 3, 7, 9), utc(2025, 3, 10, 9)
    final = final_spans(
        {1: primary.spans(start, end), 2: secondary.spans(start, end)}, {1: 1, 2: 2}
    )
    assert who(final) == [
        (A, "Fri 07 09:00", "Sat 08 00:00"),
        (B, "Sat 08 00:00", "Mon 10 00:00"),
        (A, "Mon 10 00:00", "Mon 10 09:00"),
    ]


def test_hand_offs_only_when_the_person_changes():
    layer = plan(
        days=1,
        members=(A, B),
        active_from=time(9),
        active_until=time(17),
        overrides=[OverrideSpec(1, B, utc(2025, 3, 3, 12), utc(2025, 3, 3, 13), (1,))],
    )
    found = list(handoffs(layer.spans(utc(2025, 3, 3), utc(2025, 3, 5, 18))))
    assert [(h.outgoing_id, h.incoming_id, h.at) for h in found] == [
        (None, A, utc(2025, 3, 3, 9)),
        (A, B, utc(2025, 3, 3, 12)),
        (B, A, utc(2025, 3, 3, 13)),
        (A, B, utc(2025, 3, 4, 9)),
        (B, A, utc(2025, 3, 5, 9)),
    ]
