"""Action item reminders with injected time: one before the due date, one per week while
overdue, never twice; finished items are let go."""

from datetime import UTC, date, datetime

import pytest

from ircore.models import Delivery
from postmortems.models import ActionItem, Postmortem
from postmortems.services.actions import (
    action_item_create,
    action_item_set_status,
    action_reminders_due,
)
from postmortems.services.postmortems import postmortems_open_missed

from .postmortem_world import at, declare, resolve


def day(d: int, hour: int = 0) -> datetime:
    return datetime(2025, 3, d, hour, tzinfo=UTC)


@pytest.fixture
def item(world):
    incident = declare(world, ic=world.ivy)
    resolve(incident, world.manager, at(2))
    postmortems_open_missed(now=at(2))
    pm = Postmortem.objects.get(incident=incident)
    # Added on the 14th by Ivy for Rob, due on the 24th.
    made = action_item_create(
        user=world.ivy,
        postmortem=pm,
        data={"title": "Canary index changes", "kind": "prevent", "owner": world.responder,
              "due_on": date(2025, 3, 24)},
        now=at(3),
    )  # fmt: skip
    Delivery.objects.all().delete()  # the "you own it" message
    return made


def subjects() -> list[str]:
    return list(
        Delivery.objects.filter(topic__startswith="postmortems.actionitem")
        .order_by("id")
        .values_list("subject", flat=True)
    )


def test_reminded_three_days_before_then_weekly_while_overdue(world, item):
    assert item.next_reminder_at == day(21)
    assert action_reminders_due(now=day(20, 23)) == 0
    assert action_reminders_due(now=day(21, 8)) == 1
    assert action_reminders_due(now=day(24, 12)) == 0  # due today: not overdue yet
    assert action_reminders_due(now=day(25)) == 1  # overdue from the day after
    assert action_reminders_due(now=day(31)) == 0
    assert action_reminders_due(now=datetime(2025, 4, 1, tzinfo=UTC)) == 1  # a week later
    assert subjects() == [
        "Action item due in 3 days: Canary index changes",
        "Action item overdue: Canary index changes",
        "Action item overdue: Canary index changes",
    ]
    assert set(Delivery.objects.values_list("recipient__username", flat=True)) == {"rob"}


def test_never_twice(world, item):
    action_reminders_due(now=day(25))
    action_reminders_due(now=day(25))
    ActionItem.objects.filter(pk=item.pk).update(next_reminder_at=day(25), overdue_notices=0)
    action_reminders_due(now=day(25))  # the stamp lost: the dedupe key still holds
    assert subjects() == ["Action item overdue: Canary index changes"]


def test_done_items_are_not_chased(world, item):
    action_item_set_status(
        item=item, user=world.responder, status="done", evidence="Canary in CI", now=day(20)
    )
    assert action_reminders_due(now=day(30)) == 0 and subjects() == []


def test_an_item_added_inside_the_window_gets_no_due_soon_reminder(world, item):
    late = action_item_create(
        user=world.ivy,
        postmortem=item.postmortem,
        data={"title": "Quick fix", "kind": "mitigate", "owner": world.responder,
              "due_on": date(2025, 3, 15)},
        now=at(3),
    )  # fmt: skip
    assert late.reminded_for == late.due_on and late.next_reminder_at == day(16)


def test_nobody_owns_it_its_postmortem_owner_hears(world, item):
    ActionItem.objects.filter(pk=item.pk).update(owner=None)
    action_reminders_due(now=day(21))
    assert Delivery.objects.get().recipient == world.ivy
