"""Hand-off notices, sent by the reconciler service with time injected: once per person and
hand-off however many ticks, with the open incidents of the team, and late but once after
an outage."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from incidents import services as incidents
from ircore.models import Delivery, Service, Severity
from oncall import services
from oncall.models import HandoffNotice, Layer

from .conftest import T0, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def weekly(make_layer, crew):
    # Made on Sunday before the rotation starts: the first hand-off is Monday 09:00.
    return make_layer([crew.alice, crew.bob], now=T0 - timedelta(days=1))


def notices():
    return sorted(
        (n.user.username, n.role, n.shift_start)
        for n in HandoffNotice.objects.select_related("user")
    )


def test_the_next_hand_off_is_planned_when_the_layer_is_saved(weekly):
    assert Layer.objects.get(pk=weekly.pk).next_handoff_at == T0


def test_hand_off_notifies_both_once_however_many_ticks(weekly, crew):
    assert services.handoffs_send_due(now=T0 - timedelta(minutes=1)) == 0
    assert services.handoffs_send_due(now=T0) == 1  # the first shift: alice only
    assert notices() == [("alice", "incoming", T0)]
    assert Layer.objects.get(pk=weekly.pk).next_handoff_at == at(days=7)

    for tick in range(3):
        services.handoffs_send_due(now=at(days=7, hours=tick / 60))
    assert notices() == [
        ("alice", "incoming", T0),
        ("alice", "outgoing", at(days=7)),
        ("bob", "incoming", at(days=7)),
    ]
    subjects = list(Delivery.objects.filter(recipient=crew.bob).values_list("subject", flat=True))
    assert subjects == ["On call: Payments on call · Level 1 from Mon 10 Mar 09:00 (Europe/London)"]


def test_two_calls_for_the_same_moment_write_one_notice(weekly):
    # Even if the layer's due time were read twice (two beats), the unique row wins.
    services.handoffs_send_due(now=T0)
    Layer.objects.filter(pk=weekly.pk).update(next_handoff_at=T0)
    assert services.handoffs_send_due(now=T0 + timedelta(seconds=30)) == 0
    assert HandoffNotice.objects.count() == 1


def test_notice_lists_the_open_incidents_of_the_team(weekly, team, crew):
    sev = Severity.objects.create(key="SEV-2", rank=2, name="High")
    api = Service.objects.create(name="Payments API", slug="payments-api", team=team)
    other = Service.objects.create(name="Other", slug="other")
    open_one = incidents.incident_declare(
        title="Card payments failing", severity=sev, services=[api], user=crew.boss, now=at(days=6)
    )
    incidents.incident_declare(
        title="Not ours", severity=sev, services=[other], user=crew.boss, now=at(days=6)
    )
    services.handoffs_send_due(now=T0)
    services.handoffs_send_due(now=at(days=7))
    body = Delivery.objects.filter(recipient=crew.bob).get().body
    assert open_one.reference in body and "Card payments failing" in body
    assert "Not ours" not in body
    outgoing = Delivery.objects.filter(recipient=crew.alice).order_by("-id").first().body
    assert open_one.reference in outgoing
    assert HandoffNotice.objects.get(user=crew.bob).open_incidents == 1


def test_after_an_outage_only_the_hand_off_in_force_is_sent_late(make_layer, crew):
    layer = make_layer([crew.alice, crew.bob, crew.carol], kind="hours", every=1)
    # Nothing ran for 2.5 hours past the first hand-off: 09:00 alice, 10:00 bob, 11:00 carol.
    assert services.handoffs_send_due(now=at(hours=2.5)) == 2
    assert notices() == [("bob", "outgoing", at(hours=2)), ("carol", "incoming", at(hours=2))]
    body = Delivery.objects.filter(recipient=crew.carol).get().body
    assert "30 minutes late" in body
    assert Layer.objects.get(pk=layer.pk).next_handoff_at == at(hours=3)


def test_an_override_replans_the_next_hand_off(weekly, crew):
    services.handoffs_send_due(now=T0)
    services.override_create(
        layer=weekly, user=crew.carol, start=at(days=2), end=at(days=3), by=crew.boss, now=at(1)
    )
    assert Layer.objects.get(pk=weekly.pk).next_handoff_at == at(days=2)
    services.handoffs_send_due(now=at(days=2))
    services.handoffs_send_due(now=at(days=3))
    assert notices()[1:] == [
        ("alice", "incoming", at(days=3)),
        ("alice", "outgoing", at(days=2)),
        ("carol", "incoming", at(days=2)),
        ("carol", "outgoing", at(days=3)),
    ]


def test_a_change_between_a_due_hand_off_and_the_tick_loses_nothing(weekly, crew):
    services.handoffs_send_due(now=T0)
    # The 10th's hand-off is due; before the tick someone adds an override next week.
    services.override_create(
        layer=weekly,
        user=crew.carol,
        start=at(days=9),
        end=at(days=10),
        by=crew.boss,
        now=at(days=7, hours=0.01),
    )
    services.handoffs_send_due(now=at(days=7, hours=0.02))
    assert ("bob", "incoming", at(days=7)) in notices()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks; SQLite serialises writers on one file lock",
)
def test_two_beats_ticking_at_once_notify_each_person_once(transactional_db, make_layer, crew):
    layer = make_layer([crew.alice, crew.bob, crew.carol], kind="daily")
    Layer.objects.filter(pk=layer.pk).update(next_handoff_at=at(days=1))
    start = threading.Barrier(4)
    sent, errors = [], []

    def tick():
        try:
            start.wait(timeout=10)
            sent.append(services.handoffs_send_due(now=at(days=1, hours=0.01)))
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == [] and sum(sent) == 2
    assert notices() == [("alice", "outgoing", at(days=1)), ("bob", "incoming", at(days=1))]
    assert Delivery.objects.filter(recipient=crew.bob).count() == 1
