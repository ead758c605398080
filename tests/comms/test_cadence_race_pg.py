"""The cadence clock racing itself and the publishers on PostgreSQL: threads with their own
connections, started together on a barrier (``tests.racing``). Each overdue update is
reminded once whatever the number of ticks; a publish racing a tick leaves one pending row
per audience and every update counted once.
"""

import pytest
import time_machine
from django.db import connection

from comms.models import UpdateDue
from comms.services.cadence import cadence_tick, update_sent
from ircore.models import Delivery
from tests.racing import race

from .cadence_fixtures import *  # noqa: F403  (the fixtures)
from .cadence_fixtures import INTERNAL, at

# Transactions commit here, so the receivers run: at the declaration's moment, as they would.


@pytest.fixture
def declared(declare):
    def make(**kwargs):
        with time_machine.travel(at(0), tick=False):
            return declare(0, **kwargs)

    return make


pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks; SQLite serialises writers on one file lock, "
    "so threads racing prove nothing there",
)


def test_four_ticks_racing_remind_each_overdue_update_once(transactional_db, declared):
    incidents = [declared(title=f"Incident {n}") for n in range(6)]
    cadence_tick(now=at(1))
    for minute in (16, 31):  # the internal update due 15; then 30 with the customers' due 30
        results, errors = race([lambda minute=minute: cadence_tick(now=at(minute))] * 4)
        assert errors == [None] * 4
        assert sum(results) == len(incidents) * (1 if minute == 16 else 2)
    assert Delivery.objects.filter(topic="comms.cadence").count() == len(incidents) * 3
    for incident in incidents:
        pending = UpdateDue.objects.filter(incident=incident, outcome="pending")
        assert sorted(pending.values_list("audience", flat=True)) == ["customers", "internal"]
        assert UpdateDue.objects.filter(incident=incident, outcome="missed").count() == 1


def test_a_publish_racing_the_tick_is_counted_once_with_one_pending_row(
    transactional_db, declared, publish
):
    for _ in range(8):
        incident = declared()
        cadence_tick(now=at(1))
        # Published at 31: the update due 15 is missed at 30 (by the tick or by the
        # publish's own catch-up), and the one due 30 is settled late by it.
        notice = publish(incident, INTERNAL, 31, call=False)
        results, errors = race(
            [lambda: cadence_tick(now=at(31)), lambda notice=notice: update_sent(notice)]
        )
        assert errors == [None, None]
        internal = UpdateDue.objects.filter(incident=incident, audience=INTERNAL)
        assert sorted(internal.values_list("outcome", flat=True)) == ["late", "missed", "pending"]
        assert internal.get(outcome="late").notice_id == notice.pk
        assert internal.get(outcome="pending").due_at == at(46)


def test_two_publishes_racing_each_settle_one_update(transactional_db, declared, publish):
    incident = declared()
    cadence_tick(now=at(1))
    first = publish(incident, INTERNAL, 10, call=False)
    second = publish(incident, INTERNAL, 10, call=False)
    results, errors = race([lambda: update_sent(first), lambda: update_sent(second)])
    assert errors == [None, None]
    internal = UpdateDue.objects.filter(incident=incident, audience=INTERNAL)
    assert sorted(internal.values_list("outcome", flat=True)) == ["on_time", "on_time", "pending"]
    assert sorted(internal.exclude(notice=None).values_list("notice_id", flat=True)) == sorted(
        [first.pk, second.pk]
    )
