"""The clock: a tick after an outage pages what is due once and says how late; two beats
(or one that stops) page each step once, on time; the kick after a declaration; a missed
declaration signal; the cost of a tick grows with what is due, not with open incidents;
drills page only their participants."""

from datetime import timedelta

import pytest
import time_machine

from config.celery import app
from incidents.models import TimelineEntry
from incidents.services import incident_declare, role_assign
from oncall.models import Escalation, EscalationStep, Page
from oncall.services.escalation import clock_lag, escalation_tick

from .test_escalation_fixtures import *  # noqa: F403  (the fixtures)
from .test_escalation_fixtures import at, paged, tick

T = EscalationStep.Target


@pytest.fixture
def policy(make_policy, org):
    return make_policy(
        "Payments",
        [
            (0, T.LAYER, {"layer": org.layer}),
            (5, T.TEAM_MANAGER, {}),
            (15, T.USER, {"user": org.vp}),
            (30, T.ENDPOINT, {"endpoint": org.execs}),
        ],
    )


def test_after_a_20_minute_outage_the_next_tick_pages_what_is_due_once_and_late(
    policy, org, declare
):
    incident = declare()
    tick(0)
    # No tick from 0:30 to 20:00 (broker down, worker dead).
    assert clock_lag(now=at(20)) == timedelta(minutes=15)
    assert tick(20) == 2
    assert tick(20.5) == 0
    pages = {p.recipient.username: p for p in Page.objects.filter(recipient__isnull=False)}
    assert pages["boss"].late_by == timedelta(minutes=15)
    assert pages["vp"].late_by == timedelta(minutes=5)
    assert pages["alice"].late_by is None
    texts = TimelineEntry.objects.filter(incident=incident, kind="page").values_list(
        "text", flat=True
    )
    assert any("Bea Test" in t and "paged 15 min late" in t for t in texts)
    assert any("Vera VP" in t and "paged 5 min late" in t for t in texts)
    assert clock_lag(now=at(20.5)) is None


def test_two_beats_alternating_page_each_step_once_on_time(policy, org, declare):
    incident = declare()
    # Beat A ticks on whole minutes, beat B on the half minutes; B stops at 7 min.
    for n in range(0, 80):
        minute = n / 2
        if n % 2 == 0 or minute < 7:
            escalation_tick(now=at(minute))
    assert paged(incident) == [("alice", 0), ("boss", 5), ("vp", 15), ("Executive team", 30)]
    assert Page.objects.filter(late_by__isnull=False).count() == 0


def test_one_clock_stops_mid_escalation_the_other_sends_the_next_page_on_time(policy, org, declare):
    incident = declare()
    for minute in range(0, 6):  # beat A, until it dies after 5 min
        escalation_tick(now=at(minute))
    for minute in range(6, 40, 3):  # beat B, every 3 minutes, off by 15 s
        escalation_tick(now=at(minute) + timedelta(seconds=15))
        escalation_tick(now=at(minute) + timedelta(seconds=15))  # and a duplicate tick
    assert [p[0] for p in paged(incident)] == ["alice", "boss", "vp", "Executive team"]
    assert Page.objects.count() == 4


def test_the_declaration_kicks_the_engine_so_the_first_page_leaves_at_once(
    policy, org, sev, settings, django_capture_on_commit_callbacks
):
    # The worker runs inline. Through the Django setting, which Celery reads on each access:
    # assigning ``app.conf.task_always_eager`` (even back to its old value) pins it in
    # Celery's own layer for the rest of the run, and later tests' settings no longer apply.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with (
        time_machine.travel(at(0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        incident = incident_declare(
            title="Payments failing", severity=sev.two, services=[org.service], user=org.bob
        )
    assert paged(incident) == [("alice", 0)]
    assert Escalation.objects.get(incident=incident).next_escalation_at == at(5)


def test_a_missed_declaration_signal_is_caught_up_by_the_tick(policy, org, sev):
    incident = incident_declare(
        title="No signal", severity=sev.two, services=[org.service], user=org.bob, now=at(0)
    )
    assert not Escalation.objects.exists()  # the on-commit receiver never ran
    assert tick(0.5) == 1
    assert paged(incident) == [("alice", 0.5)]


def test_a_closed_incident_is_not_paged_and_leaves_nothing_due(policy, org, declare):
    from incidents.services import incident_set_status

    incident = declare()
    tick(0)
    incident_set_status(incident=incident, status="resolved", user=org.alice, now=at(1))
    assert tick(10) == 0
    assert Escalation.objects.get(incident=incident).next_escalation_at is None


def test_a_tick_costs_the_same_queries_with_10_or_60_open_incidents(
    policy, org, declare, django_assert_max_num_queries
):
    """Open incidents not due cost nothing; what is due costs the same per incident."""

    def story(open_count, minutes):
        for _ in range(open_count):
            declare(minutes=minutes - 60)
        for later in (-60, -50, -40, -29):  # their pages all sent: nothing due until ...
            tick(minutes + later)
        for _ in range(3):
            declare(minutes=minutes)  # ... these three, due at once

    story(10, 0)
    with django_assert_max_num_queries(200) as small:
        assert tick(0) == 3
    story(50, 100)  # 60 open now, and 3 due
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        assert tick(100) == 3
    assert len(large.captured_queries) == len(small.captured_queries)


def test_nothing_due_is_three_queries_whatever_the_open_incidents(
    policy, declare, django_assert_max_num_queries
):
    for _ in range(30):
        declare()
    tick(31)
    with django_assert_max_num_queries(2):
        assert tick(31.5) == 0


def test_a_drill_pages_only_its_participants_marked_drill_never_endpoints(
    make_policy, org, sev, declare
):
    make_policy(
        "Drill",
        [
            (0, T.LAYER, {"layer": org.layer}),
            (5, T.TEAM_MANAGER, {}),
            (10, T.ROLE, {"role": "tech_lead"}),
            (15, T.ENDPOINT, {"endpoint": org.execs}),
            (20, T.USER, {"user": org.declarer}),
        ],
    )
    incident = declare(is_drill=True)
    role_assign(incident=incident, role="tech_lead", user=org.bob, by=org.declarer, now=at(1))
    for minute in range(0, 25):
        tick(minute)
    # Alice (on call) and Bea (manager) take no part in the drill; Bob holds a role; Dora declared.
    assert paged(incident) == [("bob", 10), ("dora", 20)]
    assert all(p.is_drill for p in Page.objects.all())
    bob = Page.objects.get(recipient=org.bob)
    assert bob.delivery.subject.startswith("DRILL: ")
    assert "DRILL" in bob.delivery.body
    texts = list(
        TimelineEntry.objects.filter(incident=incident, kind__in=["page", "escalation"])
        .order_by("occurred_at", "id")
        .values_list("text", flat=True)
    )
    assert any("DRILL: Nobody to page" in t and "never pages an endpoint" in t for t in texts)
    assert any("DRILL: Nobody to page" in t and "Alice Test is not one" in t for t in texts)
    assert any(t.startswith("DRILL: Paged Bob Test") for t in texts)


def test_one_escalation_that_cannot_advance_holds_up_nobody_else(policy, org, declare, caplog):
    broken, fine = declare(), declare()
    escalation = Escalation.objects.get(incident=broken)
    escalation.plan = {"steps": [{"position": 1, "delay": 0}]}  # a plan the engine cannot read
    escalation.save(update_fields=["plan"])
    assert tick(0) == 1
    assert paged(fine) == [("alice", 0)]
    assert "could not advance" in caplog.text
    assert Escalation.objects.get(incident=broken).next_escalation_at == at(0)  # still due


def test_the_beat_ticks_every_escalation_tick_seconds_and_the_task_pages(
    policy, org, declare, settings
):
    from oncall import tasks

    entry = app.conf.beat_schedule["escalations-due"]
    assert entry["task"] == "oncall.tasks.escalations_due"
    assert entry["schedule"] == settings.ESCALATION_TICK_SECONDS
    assert entry["options"]["expires"] < entry["schedule"]
    incident = declare()
    with time_machine.travel(at(0.1), tick=False):
        assert tasks.escalations_due.apply().get() == 1
        assert tasks.escalate_incident.apply((incident.pk,)).get() == 0  # nothing left due
    assert paged(incident) == [("alice", 0.1)]
