"""Each seed's escalation matrix, built as a policy, pages exactly the right people at
exactly the right offsets (time injected; a beat ticking every 30 seconds)."""

from incidents.services import incident_acknowledge, incident_set_status
from oncall.models import EscalationStep, Page

from .test_escalation_fixtures import *  # noqa: F403  (the fixtures)
from .test_escalation_fixtures import at, paged, run

T = EscalationStep.Target
ACK, IDENTIFIED, RESOLVED = "acknowledged", "identified", "resolved"


def seed_001(make_policy, org, sev):
    """001: P0: on-call at 0 min, engineering manager at 5, VP at 15, executive team at 30,
    unless acknowledged."""
    return make_policy(
        "001 P0",
        [
            (0, T.LAYER, {"layer": org.layer, "unless": ACK}),
            (5, T.TEAM_MANAGER, {"unless": ACK}),
            (15, T.USER, {"user": org.vp, "unless": ACK}),
            (30, T.ENDPOINT, {"endpoint": org.execs, "unless": ACK}),
        ],
    )


def test_001_p0_climbs_on_time_when_nobody_answers(make_policy, org, sev, declare):
    seed_001(make_policy, org, sev)
    incident = declare(sev.one)
    run(60)
    assert paged(incident) == [
        ("alice", 0),
        ("boss", 5),
        ("vp", 15),
        ("Executive team", 30),
    ]
    assert Page.objects.get(endpoint=org.execs).delivery.target == "exec-team@example.com"


def test_001_acknowledged_at_7_minutes_stops_the_climb(make_policy, org, sev, declare):
    seed_001(make_policy, org, sev)
    incident = declare(sev.one)
    run(6.5)
    incident_acknowledge(incident=incident, user=org.alice, now=at(7))
    run(60)
    assert paged(incident) == [("alice", 0), ("boss", 5)]


def seed_000(make_policy, org, sev):
    """000: "Issue not identified after 15 minutes of investigation (SEV-2) -> Engineering
    manager"; "Issue not resolved after 2 hours (SEV-1) or 4 hours (SEV-2) -> VP
    Engineering"; the on-call is paged first at every level."""
    return make_policy(
        "000",
        [
            (0, T.LAYER, {"layer": org.layer, "unless": ACK}),
            (15, T.TEAM_MANAGER, {"unless": IDENTIFIED, "severities": [sev.two]}),
            (120, T.USER, {"user": org.vp, "unless": RESOLVED, "severities": [sev.one]}),
            (240, T.USER, {"user": org.vp, "unless": RESOLVED, "severities": [sev.two]}),
        ],
    )


def test_000_sev2_not_identified_after_15_min_pages_the_manager(make_policy, org, sev, declare):
    seed_000(make_policy, org, sev)
    incident = declare(sev.two)
    run(1)
    # Investigating (which acknowledges) but not identified: the manager at 15 min.
    incident_set_status(incident=incident, status="investigating", user=org.alice, now=at(2))
    run(300)
    assert paged(incident) == [("alice", 0), ("boss", 15), ("vp", 240)]


def test_000_sev2_identified_in_time_pages_no_manager(make_policy, org, sev, declare):
    seed_000(make_policy, org, sev)
    incident = declare(sev.two)
    run(10)
    incident_set_status(incident=incident, status="identified", user=org.alice, now=at(10.2))
    run(230)
    assert paged(incident) == [("alice", 0)]


def test_000_sev1_unresolved_after_2_h_pages_the_vp(make_policy, org, sev, declare):
    seed_000(make_policy, org, sev)
    incident = declare(sev.one)
    run(5)
    incident_set_status(incident=incident, status="identified", user=org.alice, now=at(5.2))
    run(300)
    # SEV-1 has no manager step; the VP at 2 h, not at 4 h.
    assert paged(incident) == [("alice", 0), ("vp", 120)]


def test_000_resolved_before_2_h_pages_no_vp(make_policy, org, sev, declare):
    seed_000(make_policy, org, sev)
    incident = declare(sev.one)
    run(100)
    incident_set_status(incident=incident, status="resolved", user=org.alice, now=at(100.2))
    run(300)
    assert paged(incident) == [("alice", 0)]


def seed_003(make_policy, org, sev):
    """003's chain: on-call engineer -> team lead (30 min P0, 2 h P1) -> engineering manager
    (1 h P0, 4 h P1) -> CTO (2 h P0, 8 h P1) -> CEO (4 h P0, 24 h P1), while unresolved."""
    p0, p1 = (
        {"unless": RESOLVED, "severities": [sev.one]},
        {
            "unless": RESOLVED,
            "severities": [sev.two],
        },
    )
    return make_policy(
        "003",
        [
            (0, T.LAYER, {"layer": org.layer, "unless": ACK}),
            (30, T.TEAM_LEAD, p0),
            (60, T.TEAM_MANAGER, p0),
            (120, T.USER, {"user": org.cto, **p0}),
            (240, T.USER, {"user": org.ceo, **p0}),
            (120, T.TEAM_LEAD, p1),
            (240, T.TEAM_MANAGER, p1),
            (480, T.USER, {"user": org.cto, **p1}),
            (1440, T.USER, {"user": org.ceo, **p1}),
        ],
    )


def test_003_p0_chain(make_policy, org, sev, declare):
    seed_003(make_policy, org, sev)
    incident = declare(sev.one)
    run(1, every=0.5)
    incident_acknowledge(incident=incident, user=org.alice, now=at(1.2))
    run(300, every=5)
    assert paged(incident) == [
        ("alice", 0),
        ("dave", 30),
        ("boss", 60),
        ("cto", 120),
        ("ceo", 240),
    ]


def test_003_p1_chain(make_policy, org, sev, declare):
    seed_003(make_policy, org, sev)
    incident = declare(sev.two)
    run(1500, every=10)
    assert paged(incident) == [
        ("alice", 0),
        ("dave", 120),
        ("boss", 240),
        ("cto", 480),
        ("ceo", 1440),
    ]


def seed_004(make_policy, org, sev):
    """004: "1. Team Lead (first 30 minutes) ... 3. VP Engineering (if unresolved after 2 hours
    for SEV-1)": the on-call at once, the team lead by 30 minutes unless acknowledged, the VP
    at 2 h while unresolved (SEV-1)."""
    return make_policy(
        "004",
        [
            (0, T.LAYER, {"layer": org.layer, "unless": ACK}),
            (30, T.TEAM_LEAD, {"unless": ACK}),
            (120, T.USER, {"user": org.vp, "unless": RESOLVED, "severities": [sev.one]}),
        ],
    )


def test_004_sev1_unanswered(make_policy, org, sev, declare):
    seed_004(make_policy, org, sev)
    incident = declare(sev.one)
    run(180, every=1)
    assert paged(incident) == [("alice", 0), ("dave", 30), ("vp", 120)]


def test_004_sev2_acknowledged_is_never_escalated(make_policy, org, sev, declare):
    seed_004(make_policy, org, sev)
    incident = declare(sev.two)
    run(10, every=1)
    incident_acknowledge(incident=incident, user=org.alice, now=at(10.5))
    run(180, every=1)
    assert paged(incident) == [("alice", 0)]
