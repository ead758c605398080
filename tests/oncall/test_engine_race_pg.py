"""Engines racing on PostgreSQL: threads with their own connections, started together on a
barrier. Each recipient is paged once; an acknowledgement racing a tick leaves no page after
it."""

import pytest
from django.db import connection

from incidents.models import Incident
from ircore.models import Delivery
from oncall.models import Escalation, EscalationStep, Page
from oncall.services.escalation import escalation_acknowledge, escalation_tick
from tests.racing import race

from .test_escalation_fixtures import *  # noqa: F403  (the fixtures)
from .test_escalation_fixtures import at, paged

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks; SQLite serialises writers on one file lock, "
    "so threads racing prove nothing there",
)

T = EscalationStep.Target


@pytest.fixture
def policy(make_policy, org):
    return make_policy(
        "Race",
        [
            (0, T.LAYER, {"layer": org.layer}),
            (5, T.TEAM_MANAGER, {}),
            (5, T.USER, {"user": org.vp}),
            (5, T.ENDPOINT, {"endpoint": org.execs}),
        ],
    )


def test_four_engines_racing_page_each_recipient_once(transactional_db, policy, org, declare):
    incidents = [declare() for _ in range(5)]
    results, errors = race([lambda: escalation_tick(now=at(6))] * 4)
    assert errors == [None] * 4
    assert sum(results) == 5 * 4  # every page made once, by whichever engine got the row
    for incident in incidents:
        assert sorted(p[0] for p in paged(incident)) == ["Executive team", "alice", "boss", "vp"]
    assert Page.objects.count() == 20
    assert Delivery.objects.filter(endpoint=org.execs).count() == 5
    assert all(e.next_escalation_at is None for e in Escalation.objects.all())


def test_an_acknowledgement_racing_a_tick_leaves_no_live_page_after_it(
    transactional_db, policy, org, declare
):
    for _ in range(10):
        Page.objects.all().delete()
        Escalation.objects.all().delete()
        incident = declare()
        escalation_tick(now=at(0))
        results, errors = race(
            [
                lambda: escalation_tick(now=at(6)),
                lambda incident=incident: escalation_acknowledge(
                    incident=incident, user=org.alice, via="api", now=at(6)
                ),
            ]
        )
        assert errors == [None, None]
        incident = Incident.objects.get(pk=incident.pk)
        assert incident.acknowledged_at is not None
        # Whichever won, no page of an "unless acknowledged" step is live after the ack.
        assert not Page.objects.live().filter(incident=incident).exists()
        assert not Page.objects.filter(incident=incident, status__in=["pending", "sent"]).exists()
        late = Page.objects.filter(incident=incident, paged_at__gt=incident.acknowledged_at)
        assert not late.exists()
