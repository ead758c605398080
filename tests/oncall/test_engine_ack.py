"""Acknowledging stops the pages of "unless acknowledged" steps at once and for good; steps
"unless identified/mitigated/resolved" go on until the incident gets there."""

from datetime import timedelta

import pytest
import time_machine

from incidents.models import TimelineEntry
from incidents.services import incident_acknowledge, incident_declare, incident_set_status
from ircore.errors import ConflictError, RuleError
from oncall.models import EscalationStep, Page
from oncall.services.escalation import escalation_acknowledge

from .test_escalation_fixtures import *  # noqa: F403  (the fixtures)
from .test_escalation_fixtures import at, paged, run, tick

T = EscalationStep.Target


@pytest.fixture
def policy(make_policy, org):
    return make_policy(
        "Payments",
        [
            (0, T.LAYER, {"layer": org.layer}),
            (5, T.TEAM_MANAGER, {}),
            (10, T.USER, {"user": org.vp, "unless": "resolved"}),
            (20, T.USER, {"user": org.cto}),
        ],
    )


def test_acknowledge_stamps_the_incident_stops_pages_and_says_so(policy, org, declare):
    incident = declare()
    run(11)
    assert paged(incident) == [("alice", 0), ("boss", 5), ("vp", 10)]

    result = escalation_acknowledge(incident=incident, user=org.alice, via="admin", now=at(12))

    incident.refresh_from_db()
    assert incident.acknowledged_at == at(12) and result.stamped
    alice = Page.objects.get(recipient=org.alice)
    assert (alice.status, alice.acknowledged_by, alice.acknowledged_via) == (
        "acknowledged",
        org.alice,
        "admin",
    )
    assert alice.acknowledged_at == at(12)
    boss = Page.objects.get(recipient=org.boss)
    assert (boss.status, boss.stopped_at) == ("stopped", at(12))
    assert "acknowledged by Alice Test" in boss.stop_reason
    # The VP's step is "unless resolved": still live.
    assert list(Page.objects.live().values_list("recipient__username", flat=True)) == ["vp"]
    assert result.stopped == 1
    texts = list(
        TimelineEntry.objects.filter(incident=incident, kind="ack").values_list("text", flat=True)
    )
    assert any("paging stopped: 1 other page" in t for t in texts)
    run(60)
    assert paged(incident) == [("alice", 0), ("boss", 5), ("vp", 10)]  # no CTO at 20


def test_acknowledging_twice_changes_nothing(policy, org, declare):
    incident = declare()
    tick(0)
    escalation_acknowledge(incident=incident, user=org.alice, via="api", now=at(1))
    again = escalation_acknowledge(incident=incident, user=org.alice, via="api", now=at(2))
    assert not again.changed
    incident.refresh_from_db()
    assert incident.acknowledged_at == at(1)


def test_bad_input_names_the_field_and_writes_nothing(policy, org, declare, sev):
    incident = declare()
    tick(0)
    with pytest.raises(RuleError) as bad_via:
        escalation_acknowledge(incident=incident, user=org.alice, via="pigeon", now=at(1))
    assert bad_via.value.field == "via"
    other = incident_declare(
        title="Other", severity=sev.two, services=[org.service], user=org.declarer, now=at(0)
    )
    page = Page.objects.get(incident=incident)
    with pytest.raises(RuleError) as wrong:
        escalation_acknowledge(incident=other, user=org.alice, via="api", page=page, now=at(1))
    assert wrong.value.field == "page"
    incident.refresh_from_db()
    assert incident.acknowledged_at is None and Page.objects.get(pk=page.pk).status == "sent"


def test_a_resolved_incident_has_nothing_to_acknowledge(policy, org, declare):
    incident = declare()
    tick(0)
    incident_set_status(incident=incident, status="resolved", user=org.alice, now=at(1))
    # Resolving acknowledged it on the way; a resolved, never-acknowledged incident refuses:
    incident.refresh_from_db()
    incident.acknowledged_at = None
    incident.save(update_fields=["acknowledged_at"])
    with pytest.raises(ConflictError) as refused:
        escalation_acknowledge(incident=incident, user=org.alice, via="api", now=at(2))
    assert refused.value.field == "status"


def test_the_lifecycle_acknowledge_button_stops_pages_through_the_receiver(
    policy, org, declare, django_capture_on_commit_callbacks
):
    incident = declare()
    run(6)
    with time_machine.travel(at(7), tick=False), django_capture_on_commit_callbacks(execute=True):
        incident_acknowledge(incident=incident, user=org.bob)
    statuses = dict(Page.objects.values_list("recipient__username", "status"))
    assert statuses == {"alice": "stopped", "boss": "stopped"}
    entry = TimelineEntry.objects.filter(incident=incident, kind="escalation").last()
    assert entry.text == "Paging stopped: the incident is acknowledged (2 page(s))."


def test_live_is_level_triggered_without_any_receiver(policy, org, declare):
    """Page.objects.live() reads the incident: a page whose point is reached is not live even
    before anything updates its status (the definition contact sends by)."""
    incident = declare()
    run(11)
    assert Page.objects.live().count() == 3
    incident_acknowledge(incident=incident, user=org.bob, now=at(12))  # no receiver ran
    assert set(Page.objects.live().values_list("recipient__username", flat=True)) == {"vp"}
    incident_set_status(incident=incident, status="identified", user=org.bob, now=at(13))
    assert Page.objects.live().count() == 1
    incident_set_status(incident=incident, status="resolved", user=org.bob, now=at(14))
    assert Page.objects.live().count() == 0


def test_no_page_after_an_acknowledgement_even_a_tick_that_was_due_before(policy, org, declare):
    """The tick decides on the incident read under its lock: an acknowledgement committed
    before the tick ran wins, even though the step was due earlier."""
    incident = declare()
    tick(0)
    escalation_acknowledge(
        incident=incident, user=org.alice, via="link", now=at(5) - timedelta(seconds=1)
    )
    tick(30)  # late tick: steps at 5 and 20 were due, the incident is acknowledged
    assert paged(incident) == [("alice", 0), ("vp", 30)]
