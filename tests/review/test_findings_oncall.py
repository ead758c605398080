"""Reproductions of the review findings on the on-call escalation work (issue 8). Each test
failed on the reviewed snapshot and passes with its fix."""

from datetime import timedelta

import pytest
from django.urls import reverse

from incidents.models import TimelineEntry
from ircore import policy
from ircore.models import Delivery
from ircore.notifications import send_due
from oncall.models import EscalationPolicy, EscalationStep, Page
from oncall.services.escalation import escalation_acknowledge, escalation_tick
from tests.oncall.conftest import *  # noqa: F403  (crew, team, layers)
from tests.oncall.test_escalation_fixtures import *  # noqa: F403  (the fixtures)
from tests.oncall.test_escalation_fixtures import at, paged, run

T = EscalationStep.Target


# --- 1. a message queued (or retrying) before the acknowledgement still went out after it ---


@pytest.fixture
def climb(make_policy, org):
    """On-call at once, the manager at 5 min, the executives' list at 6 (unless acknowledged)."""
    return make_policy(
        "Payments",
        [
            (0, T.LAYER, {"layer": org.layer}),
            (5, T.TEAM_MANAGER, {}),
            (6, T.ENDPOINT, {"endpoint": org.execs}),
        ],
    )


def test_messages_still_queued_at_the_acknowledgement_are_never_sent(climb, org, declare):
    """The broker is down (nothing enqueued reaches a worker: the test never commits), so
    every page's message waits in the delivery log for the reconciler. Alice acknowledges at
    7 min; when the reconciler catches up, the manager and the executives must not be woken
    about an incident already acknowledged."""
    incident = declare()
    run(6.5)
    assert paged(incident) == [("alice", 0), ("boss", 5), ("Executive team", 6)]
    assert Delivery.objects.filter(status="queued").count() == 3

    escalation_acknowledge(incident=incident, user=org.alice, via="admin", now=at(7))
    send_due(now=at(8))

    boss = Page.objects.get(recipient=org.boss)
    execs = Page.objects.get(endpoint=org.execs)
    assert (boss.status, execs.status) == ("stopped", "stopped")
    went_out = Delivery.objects.filter(status="sent")
    assert not went_out.filter(recipient=org.boss).exists()
    assert not went_out.filter(endpoint=org.execs).exists()
    withdrawn = Delivery.objects.exclude(recipient=org.alice)
    assert {(d.status, d.last_error[:9]) for d in withdrawn} == {("failed", "Withdrawn")}


# --- 2. the pay report answered 500 to a date range at the end of the calendar -------------


def test_report_range_at_the_calendar_edge_is_a_form_error(client, cast):
    """The range's end is the day after ``end``: 9999-12-31 + 1 day overflowed (OverflowError,
    a 500) instead of a form error naming the field."""
    client.force_login(cast.manager)
    dates = {"start": "9999-12-30", "end": "9999-12-31"}
    response = client.get(reverse("admin:oncall_report"), dates)
    assert response.status_code == 200
    assert response.context["report"] is None
    assert "end" in response.context["form"].errors
    csv = client.get(reverse("admin:oncall_report"), {**dates, "format": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/html")


# --- 3. after an outage, every missed round of a repeated step paged the same person at once --


def test_a_tick_after_an_outage_pages_a_repeated_step_once(make_policy, org, declare):
    """Alice's step repeats every 10 minutes, three more times. The clock stops from the
    declaration until 35 min: the first tick back finds rounds 0-3 all due. It must page
    Alice once, late, not four times in the same second."""
    make_policy(
        "Payments",
        [(0, T.LAYER, {"layer": org.layer, "unless": "resolved"})],
        repeat_last=1,
        repeat_times=3,
        repeat_after=timedelta(minutes=10),
    )
    incident = declare()
    escalation_tick(now=at(35))
    assert paged(incident) == [("alice", 35)]
    page = Page.objects.get(incident=incident)
    assert page.repeat == 3 and page.late_by == timedelta(minutes=5)
    assert Delivery.objects.filter(recipient=org.alice).count() == 1
    text = TimelineEntry.objects.filter(incident=incident, kind="page").get().text
    assert "5 min late" in text and "3 earlier round(s)" in text
    run(120)
    assert paged(incident) == [("alice", 35)]  # nothing left to repeat


def test_rounds_due_at_the_same_instant_page_once(make_policy, org, declare):
    """A gap of 0 between rounds of a one-step repeat puts every round at the same minute:
    one page, not one per round."""
    make_policy(
        "Payments",
        [(0, T.LAYER, {"layer": org.layer})],
        repeat_last=1,
        repeat_times=2,
        repeat_after=timedelta(0),
    )
    incident = declare()
    run(5)
    assert paged(incident) == [("alice", 0)]


# --- 4. the admin saved repeats the policy file refuses: an export that cannot be imported --


def test_the_admin_refuses_more_repeats_than_the_policy_file_allows(client, org):
    """The policy file allows at most 20 repeats; the admin took 50 (the field's only bound
    was 32767), so exporting that policy gave a file no install, this one included, imports.
    The bound is the model's now, and both ask it."""
    from tests.oncall.test_escalation_admin import ADD, policy_post

    client.force_login(org.boss)
    step = {"position": "1", "delay": "0m", "unless": "acknowledged", "target": "team_manager"}
    data = {**policy_post(a=step), "repeat_last": "1", "repeat_times": "50"}
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "repeat_times" in response.context["adminform"].form.errors
    assert not EscalationPolicy.objects.exists()

    client.post(ADD, {**data, "repeat_times": "20"})
    exported = policy.export_policy()["escalation"]
    # Round trip: what the admin saves, the file takes back.
    policy.import_policy({"version": 1, "escalation": exported})
    assert EscalationPolicy.objects.get().repeat_times == 20


# --- 5. a deactivated person still on a rotation was "paged", with a link that refuses them --


def test_a_deactivated_on_call_is_not_paged_and_the_timeline_says_why(climb, org, declare):
    """Alice left: her account is deactivated, the rotation not yet updated. The engine paged
    her (the timeline said "Paged Alice") with an acknowledge link that refuses an inactive
    person, while a named-person step refuses inactive users. Nobody able to answer must not
    count as paged: the timeline says why, and the next step still climbs on time."""
    org.alice.is_active = False
    org.alice.save()
    incident = declare()
    run(5)
    assert paged(incident) == [("boss", 5)]
    texts = TimelineEntry.objects.filter(incident=incident).values_list("text", flat=True)
    assert any("Nobody to page" in t and "no longer an active user" in t for t in texts)


# --- 6. the policy file took policies the admin refuses (the model's rules had a second home) --


def test_the_policy_file_refuses_what_the_policys_own_rules_refuse(org, sev):
    """``EscalationPolicy.clean`` refuses a policy that is both a service's and a team's, and
    repeats without saying how many steps; the file's section did not ask it, so an import
    wrote policies that the admin then refused to save unchanged."""
    doc = {
        "version": 1,
        "escalation": [
            {
                "name": "Both",
                "team": org.team.slug,
                "service": org.service.slug,
                "steps": [{"delay": "0s", "target": "team_manager"}],
            },
            {
                "name": "Repeats",
                "repeat_last": 0,
                "repeat_times": 2,
                "steps": [{"delay": "0s", "target": "team_manager"}],
            },
        ],
    }
    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy(doc)
    problems = caught.value.problems
    assert any(p.startswith("escalation[0] (Both).team: ") for p in problems), problems
    assert any(p.startswith("escalation[1] (Repeats).repeat_last: ") for p in problems), problems
    assert not EscalationPolicy.objects.exists()
