"""Scheduling from the policy's plan, editing while scheduled, a tabletop from start to its
assessment, and the refusals that name their field (nothing written)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from ircore.errors import ConflictError, RuleError
from ircore.models import Delivery
from postmortems.models import ActionItem, Drill, DrillPlan
from postmortems.services import drills
from postmortems.services.actions import action_reminders_due

from .test_drill_fixtures import *  # noqa: F403  (the fixtures)
from .test_drill_fixtures import T, at

m, h = timedelta(minutes=1), timedelta(hours=1)


def test_a_drill_takes_its_targets_and_the_quarters_scenario_from_the_plan(world, game_day):
    # The default policy: game days quarterly, 5m / 5m / 1h; Q1 "Notification system
    # failure simulation" (003_* "Quarterly Drill Schedule").
    assert (game_day.detect_target, game_day.ack_target, game_day.resolve_target) == (
        5 * m,
        5 * m,
        h,
    )
    assert game_day.scenario == "Notification system failure simulation"
    assert game_day.title == "Game day 2025-Q1: Notification system failure simulation"
    assert game_day.status == Drill.Status.SCHEDULED
    assert sorted(p.username for p in game_day.participants.all()) == ["ann", "rob"]
    created = game_day.history.earliest("history_id")
    assert (created.history_user, created.history_change_reason) == (world.manager, "scheduled")

    autumn = drills.drill_schedule(
        kind=Drill.Kind.GAME_DAY,
        scheduled_for=datetime(2025, 11, 4, 10, tzinfo=UTC),
        service=world.service,
        integration=world.integration,
        user=world.manager,
        targets={"resolve_target": 2 * h, "detect_target": None},
    )
    assert autumn.scenario == "Multi-vendor outage coordination test"  # Q4
    assert (autumn.detect_target, autumn.ack_target, autumn.resolve_target) == (None, 5 * m, 2 * h)


def test_a_kind_without_a_scenario_in_the_plan_needs_one(world):
    with pytest.raises(RuleError, match="Describe the scenario") as refused:
        drills.drill_schedule(kind=Drill.Kind.TABLETOP, scheduled_for=T, user=world.manager)
    assert refused.value.field == "scenario"

    tabletop = drills.drill_schedule(
        kind=Drill.Kind.TABLETOP,
        scheduled_for=T,
        scenario="The primary database fails over at peak.",
        user=world.manager,
    )
    assert tabletop.title == "Tabletop 2025-03: The primary database fails over at peak."
    assert (tabletop.detect_target, tabletop.ack_target) == (None, 5 * m)


def test_without_a_plan_a_drill_has_no_targets(world):
    DrillPlan.objects.all().delete()
    chaos = drills.drill_schedule(
        kind=Drill.Kind.CHAOS, scheduled_for=T, scenario="Kill a worker", user=world.manager
    )
    assert (chaos.detect_target, chaos.ack_target, chaos.resolve_target) == (None, None, None)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"kind": "fire_drill"}, "kind", "not a kind of drill"),
        ({"scheduled_for": datetime(2025, 3, 5, 10)}, "scheduled_for", "time zone"),
        ({"scheduled_for": "tomorrow"}, "scheduled_for", "date and time"),
        ({"service": None}, "service", "service under test"),
        ({"integration": None}, "integration", "integration its synthetic alert"),
        ({"alert_severity": "meh"}, "alert_severity", "not an alert severity"),
        ({"title": "x" * 201}, "title", "At most 200"),
        ({"scenario": "a\x00b"}, "scenario", "Null characters"),
        ({"targets": {"ack_target": -m}}, "ack_target", "zero or more"),
        ({"targets": {"mttr": m}}, "mttr", "not a target"),
    ],
)
def test_scheduling_refuses_bad_input_naming_the_field(world, values, field, message):
    kwargs = {
        "kind": Drill.Kind.GAME_DAY,
        "scheduled_for": T,
        "service": world.service,
        "integration": world.integration,
        "user": world.manager,
        **values,
    }
    with pytest.raises(RuleError, match=message) as refused:
        drills.drill_schedule(**kwargs)
    assert refused.value.field == field
    assert not Drill.objects.exists()


def test_only_a_game_day_injects_an_alert(world):
    with pytest.raises(RuleError, match="Only a game day") as refused:
        drills.drill_schedule(
            kind=Drill.Kind.CHAOS,
            scheduled_for=T,
            scenario="Kill a worker",
            integration=world.integration,
            user=world.manager,
        )
    assert refused.value.field == "integration"


def test_an_inactive_participant_is_refused(world):
    world.ann.is_active = False
    world.ann.save()
    with pytest.raises(RuleError, match="not an active user") as refused:
        drills.drill_schedule(
            kind=Drill.Kind.TABLETOP,
            scheduled_for=T,
            scenario="x",
            participants=[world.ann],
            user=world.manager,
        )
    assert refused.value.field == "participants"


def test_a_scheduled_drill_is_edited_and_history_keeps_each_version(world, game_day):
    drills.drill_update(
        drill=game_day,
        user=world.manager,
        scheduled_for=at(60),
        ack_target=10 * m,
        participants=[world.rob],
    )
    game_day.refresh_from_db()
    assert (game_day.scheduled_for, game_day.ack_target) == (at(60), 10 * m)
    assert [p.username for p in game_day.participants.all()] == ["rob"]
    # The row's change, then its participants' (a history row of their own).
    changes = game_day.history.filter(history_change_reason="changed")
    assert {(c.history_user, c.ack_target) for c in changes} == {(world.manager, 10 * m)}
    assert [p.user.username for p in changes.latest("history_id").participants.all()] == ["rob"]

    with pytest.raises(RuleError, match="cannot be changed here") as refused:
        drills.drill_update(drill=game_day, user=world.manager, status="done")
    assert refused.value.field == "status"


def test_a_drill_that_ran_is_not_edited(world):
    tabletop = drills.drill_schedule(
        kind=Drill.Kind.TABLETOP, scheduled_for=T, scenario="x", user=world.manager
    )
    drills.drill_start(drill=tabletop, user=world.manager, now=T)
    with pytest.raises(ConflictError, match="only a scheduled drill can be changed"):
        drills.drill_update(drill=tabletop, user=world.manager, title="Renamed")


def test_a_game_day_is_run_and_the_others_started(world, game_day):
    with pytest.raises(RuleError, match="A game day is run") as refused:
        drills.drill_start(drill=game_day, user=world.manager, now=T)
    assert refused.value.field == "kind"
    tabletop = drills.drill_schedule(
        kind=Drill.Kind.TABLETOP, scheduled_for=T, scenario="x", user=world.manager
    )
    with pytest.raises(RuleError, match="Only a game day is run") as refused:
        drills.drill_run(drill=tabletop, user=world.manager, now=T)
    assert refused.value.field == "kind"


def test_a_tabletop_records_its_times_by_hand_against_the_targets(world):
    tabletop = drills.drill_schedule(
        kind=Drill.Kind.TABLETOP,
        scheduled_for=T,
        scenario="A data breach is reported by a customer.",
        participants=[world.ann, world.rob],
        user=world.manager,
    )
    drills.drill_start(drill=tabletop, user=world.manager, now=at(0))
    with pytest.raises(ConflictError, match="only a scheduled drill starts"):
        drills.drill_start(drill=tabletop, user=world.manager, now=at(1))

    drills.drill_complete(
        drill=tabletop,
        user=world.manager,
        actuals={"ack_actual": 4 * m, "resolve_actual": 75 * m},
        went_well="Roles were clear.",
        to_improve="Legal was reached late.",
        process_updates="Add Legal to the SEV-1 call list.",
        communication_score=3,
        action_items=[
            drills.ActionItemDraft(
                title="Add Legal to the SEV-1 call list",
                kind=ActionItem.Kind.PROCESS,
                owner=world.rob,
                due_on=date(2025, 3, 19),
                priority=ActionItem.Priority.P1,
            )
        ],
        now=at(90),
    )

    tabletop.refresh_from_db()
    assert tabletop.status == Drill.Status.DONE
    assert (tabletop.started_at, tabletop.ended_at, tabletop.duration) == (at(0), at(90), 90 * m)
    assert [(x.name, x.actual, x.target, x.met) for x in tabletop.measures()] == [
        ("Detection time", None, None, None),
        ("Response time (acknowledgement)", 4 * m, 5 * m, True),
        ("Resolution time", 75 * m, h, False),
    ]
    assert (tabletop.went_well, tabletop.communication_score) == ("Roles were clear.", 3)
    assert [i.title for i in tabletop.action_items.all()] == ["Add Legal to the SEV-1 call list"]
    # Chased like a postmortem's: the owner is told, the reminder clock runs (3 days before
    # the 19th), and the reminder beat sends it.
    item = tabletop.action_items.get()
    assert item.created_by == world.manager
    assert item.next_reminder_at == datetime(2025, 3, 16, tzinfo=UTC)
    told = Delivery.objects.filter(topic=f"postmortems.actionitem:{item.pk}")
    assert list(told.values_list("recipient__username", flat=True)) == [world.rob.username]
    assert action_reminders_due(now=datetime(2025, 3, 16, tzinfo=UTC)) == 1
    linked = tabletop.history.latest("history_id")
    assert (linked.history_change_reason, linked.history_user) == ("action items", world.manager)
    assert [i.actionitem.title for i in linked.action_items.all()] == [
        "Add Legal to the SEV-1 call list"
    ]
    assert tabletop.history.filter(history_change_reason="completed").get().history_user == (
        world.manager
    )
    with pytest.raises(ConflictError, match="only a running drill is completed"):
        drills.drill_complete(drill=tabletop, user=world.manager, now=at(95))


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"communication_score": 6}, "communication_score", "1 to 5"),
        ({"communication_score": True}, "communication_score", "1 to 5"),
        ({"actuals": {"mttd": m}}, "mttd", "not an actual time"),
        ({"went_well": "x" * 10_001}, "went_well", "At most 10,000"),
        (
            {
                "action_items": [
                    drills.ActionItemDraft(title="", kind="process", due_on=date(2025, 3, 19))
                ]
            },
            "action_items[0].title",
            "a title",
        ),
        (
            {
                "action_items": [
                    drills.ActionItemDraft(title="T", kind="fix", due_on=date(2025, 3, 19))
                ]
            },
            "action_items[0].kind",
            "Choose a type",
        ),
        (
            {"action_items": [drills.ActionItemDraft(title="T", kind="process", due_on=None)]},
            "action_items[0].due_on",
            "due date",
        ),
    ],
)
def test_an_assessment_refuses_bad_input_and_writes_nothing(world, kwargs, field, message):
    tabletop = drills.drill_schedule(
        kind=Drill.Kind.TABLETOP, scheduled_for=T, scenario="x", user=world.manager
    )
    drills.drill_start(drill=tabletop, user=world.manager, now=at(0))

    with pytest.raises(RuleError, match=message) as refused:
        drills.drill_complete(drill=tabletop, user=world.manager, now=at(30), **kwargs)

    assert refused.value.field == field
    tabletop.refresh_from_db()
    assert tabletop.status == Drill.Status.RUNNING
    assert not ActionItem.objects.exists()


def test_a_cancel_needs_a_reason(world, game_day):
    with pytest.raises(RuleError, match="Say why") as refused:
        drills.drill_cancel(drill=game_day, user=world.manager, reason="  ")
    assert refused.value.field == "cancel_reason"

    drills.drill_cancel(drill=game_day, user=world.manager, reason="Moved to Q2", now=at(-60))
    game_day.refresh_from_db()
    assert (game_day.status, game_day.cancel_reason) == (Drill.Status.CANCELLED, "Moved to Q2")
    assert game_day.history.filter(history_change_reason="cancelled").get().history_user == (
        world.manager
    )
