"""Reminder ticks and openings racing on PostgreSQL: threads with their own connections,
started together on a barrier (``tests.racing``). Each reminder goes out once, each incident
gets one postmortem, whichever caller got the row."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection

from ircore.models import Delivery
from postmortems.models import ActionItem, Postmortem
from postmortems.services.actions import action_item_create, action_reminders_due
from postmortems.services.postmortem_clock import postmortem_reminders_due
from postmortems.services.postmortems import postmortem_follow_resolution, postmortems_open_missed
from tests.racing import race

from .postmortem_world import at, build_world, declare, resolve

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks; SQLite serialises writers on one file lock, "
    "so threads racing prove nothing there",
)


@pytest.fixture
def world(transactional_db, cast, make_user):
    return build_world(cast, make_user)


def resolved_incidents(world, n):
    made = []
    for i in range(n):
        incident = declare(world, ic=world.ivy, title=f"Race {i}")
        resolve(incident, world.manager, at(2))
        made.append(incident)
    return made


def test_two_reminder_ticks_send_each_notice_once(world):
    resolved_incidents(world, 6)
    postmortems_open_missed(now=at(2))
    # A day overdue: the owner's notice and the manager's, per postmortem.
    results, errors = race([lambda: postmortem_reminders_due(now=at(74))] * 2)
    assert errors == [None, None]
    assert sum(results) == 6 * 2
    assert Delivery.objects.filter(recipient=world.ivy).count() == 6
    assert Delivery.objects.filter(recipient=world.boss).count() == 6
    assert set(Postmortem.objects.values_list("overdue_notices", flat=True)) == {2}


def test_two_action_item_ticks_send_each_reminder_once(world):
    (incident,) = resolved_incidents(world, 1)
    postmortems_open_missed(now=at(2))
    pm = Postmortem.objects.get()
    for i in range(5):
        action_item_create(
            user=world.ivy,
            postmortem=pm,
            data={"title": f"Item {i}", "kind": "prevent", "owner": world.responder,
                  "due_on": date(2025, 3, 20)},
            now=at(3),
        )  # fmt: skip
    Delivery.objects.all().delete()
    results, errors = race(
        [lambda: action_reminders_due(now=datetime(2025, 3, 22, tzinfo=UTC))] * 2
    )
    assert errors == [None, None] and sum(results) == 5
    assert Delivery.objects.count() == 5
    assert set(ActionItem.objects.values_list("overdue_notices", flat=True)) == {1}


def test_the_receiver_and_the_reconciler_racing_open_one_postmortem(world):
    incidents = resolved_incidents(world, 4)
    calls = [lambda: postmortems_open_missed(now=at(2))]
    calls += [lambda i=i: postmortem_follow_resolution(incident=i, now=at(2)) for i in incidents]
    results, errors = race(calls)
    assert errors == [None] * len(calls)
    assert Postmortem.objects.count() == 4
    for incident in incidents:
        # One opening on the incident's timeline, whoever opened it.
        assert incident.timeline.filter(text__contains="Opened on resolution").count() == 1
