"""Plans: repeats, severities, page_immediately, snapshots, the policy that applies, and the
timeline saying when nobody is paged."""

from datetime import timedelta

import pytest
import time_machine

from incidents.models import TimelineEntry
from incidents.services import incident_change_severity
from ircore.models import Service, Team
from oncall.models import Escalation, EscalationPolicy, EscalationStep, Page
from oncall.services.escalation import escalation_start, policy_for

from .test_escalation_fixtures import *  # noqa: F403  (the fixtures)
from .test_escalation_fixtures import at, paged, run, tick

T = EscalationStep.Target


def test_repeat_plays_the_last_steps_again_keeping_their_spacing(make_policy, org, declare):
    make_policy(
        "Repeat",
        [
            (0, T.LAYER, {"layer": org.layer}),
            (5, T.TEAM_LEAD, {}),
            (8, T.TEAM_MANAGER, {}),
        ],
        repeat_last=2,
        repeat_times=2,
        repeat_after=timedelta(minutes=10),
    )
    incident = declare()
    run(60)
    # span 8-5 = 3 min, cycle 3 + 10 = 13 min: rounds at 5/8, 18/21, 31/34.
    assert paged(incident) == [
        ("alice", 0),
        ("dave", 5),
        ("boss", 8),
        ("dave", 18),
        ("boss", 21),
        ("dave", 31),
        ("boss", 34),
    ]
    assert sorted(Page.objects.filter(recipient=org.dave).values_list("repeat", flat=True)) == [
        0,
        1,
        2,
    ]


def test_steps_apply_by_severity_and_page_immediately_fires_the_first_at_0(
    make_policy, org, sev, declare
):
    make_policy(
        "By severity",
        [
            (3, T.LAYER, {"layer": org.layer}),
            (10, T.TEAM_LEAD, {"severities": [sev.one]}),
            (10, T.TEAM_MANAGER, {"severities": [sev.two]}),
        ],
    )
    one, two = declare(sev.one), declare(sev.two)
    run(20)
    assert paged(one) == [("alice", 0), ("dave", 10)]  # SEV-1 pages at once
    assert paged(two) == [("alice", 3), ("boss", 10)]


def test_raising_the_severity_fires_the_passed_steps_of_the_new_level_at_once(
    make_policy, org, sev, declare, django_capture_on_commit_callbacks
):
    make_policy(
        "Raise",
        [
            (0, T.LAYER, {"layer": org.layer, "unless": "resolved"}),
            (15, T.TEAM_LEAD, {"severities": [sev.one], "unless": "resolved"}),
            (30, T.USER, {"user": org.vp, "severities": [sev.one], "unless": "resolved"}),
        ],
    )
    incident = declare(sev.two)
    run(20)
    assert paged(incident) == [("alice", 0)]
    with (
        time_machine.travel(at(20.25), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        incident_change_severity(
            incident=incident, severity=sev.one, reason="All payments fail", user=org.alice
        )
    assert paged(incident) == [("alice", 0), ("dave", 20.25)]
    run(40)
    assert paged(incident) == [("alice", 0), ("dave", 20.25), ("vp", 30)]


def test_the_plan_is_a_snapshot_edits_do_not_change_an_escalation_in_flight(
    make_policy, org, declare
):
    policy = make_policy("Snap", [(0, T.LAYER, {"layer": org.layer}), (5, T.TEAM_LEAD, {})])
    incident = declare()
    policy.steps.filter(position=2).update(delay=timedelta(minutes=50))
    run(10)
    assert paged(incident) == [("alice", 0), ("dave", 5)]


def test_policy_for_service_then_team_then_default(make_policy, org, declare, sev):
    default = make_policy("Default", [(0, T.LAYER, {"layer": org.layer})])
    incident = declare()
    assert policy_for(incident) == default
    team_policy = EscalationPolicy.objects.create(name="Team", team=org.team)
    assert policy_for(incident) == team_policy
    own = EscalationPolicy.objects.create(name="Own", service=org.service)
    assert policy_for(incident) == own
    other_team = Team.objects.create(name="Other", slug="other")
    lone = Service.objects.create(name="Lone", slug="lone", team=other_team)
    assert policy_for(declare(services=[lone])) == default


def test_no_policy_and_nobody_on_call_are_said_never_silent(make_policy, org, declare, make_layer):
    incident = declare()
    entry = TimelineEntry.objects.filter(incident=incident, kind="escalation").get()
    assert entry.text.startswith("No escalation policy applies")
    assert Escalation.objects.get(incident=incident).next_escalation_at is None

    empty = make_layer([], name="Empty")
    make_policy("Empty layer", [(0, T.LAYER, {"layer": empty})])
    second = declare()
    tick(0)
    entry = TimelineEntry.objects.filter(incident=second, kind="escalation").last()
    assert entry.text == (
        "Nobody to page (step 1: On-call of Payments on call · Empty, due at 0 min): "
        "nobody is on call on Payments on call · Empty now."
    )
    assert not Page.objects.exists()


def test_a_step_for_a_team_without_a_lead_says_so(make_policy, org, declare):
    org.team.lead = None
    org.team.save()
    make_policy("Lead", [(0, T.TEAM_LEAD, {})])
    incident = declare()
    tick(0)
    entry = TimelineEntry.objects.filter(incident=incident, kind="escalation").last()
    assert entry.text.endswith(": team Payments has no lead.")


def test_the_role_target_pages_the_current_holder(make_policy, org, declare):
    from incidents.services import role_assign

    make_policy("Role", [(5, T.ROLE, {"role": "tech_lead", "unless": "resolved"})])
    incident = declare()
    role_assign(incident=incident, role="tech_lead", user=org.carol, by=org.declarer, now=at(1))
    run(6)
    assert paged(incident) == [("carol", 5)]


@pytest.mark.parametrize("missing", ["layer", "user", "role", "endpoint"])
def test_a_step_missing_its_targets_field_is_refused_by_the_database(make_policy, missing):
    from django.db import IntegrityError, transaction

    policy = make_policy("Broken", [])
    with pytest.raises(IntegrityError), transaction.atomic():
        EscalationStep.objects.create(policy=policy, target=missing)


def test_start_twice_keeps_the_first(make_policy, org, declare):
    make_policy("Once", [(0, T.LAYER, {"layer": org.layer})])
    incident = declare()
    first = Escalation.objects.get(incident=incident)
    assert escalation_start(incident=incident, now=at(1)).pk == first.pk
    assert Escalation.objects.count() == 1
