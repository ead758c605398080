"""Concurrency on PostgreSQL: acknowledgements, IC hand-overs and threshold crossings racing
on one incident. Threads with their own connections, started together on a barrier; the
services must serialise on the incident row lock and read the clock under it."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from incidents import services
from incidents.models import RoleAssignment, ThresholdCrossing, TimelineEntry
from ircore import roles
from ircore.errors import ConflictError
from ircore.models import Delivery, FinancialThreshold, Profile
from tests.racing import race

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks; SQLite serialises writers on one file lock, "
    "so threads racing on one incident prove nothing there",
)

IC = RoleAssignment.Role.INCIDENT_COMMANDER


def test_concurrent_acknowledgements_one_wins(transactional_db, declare, people, events_log):
    incident = declare()
    events_log.clear()
    acks = [
        lambda who=who: services.incident_acknowledge(incident=incident, user=who)
        for who in (people.responder, people.certified, people.certified_too, people.manager) * 2
    ]
    results, errors = race(acks)

    won = [r for r in results if r is not None]
    assert len(won) == 1
    refused = [e for e in errors if e is not None]
    assert len(refused) == len(acks) - 1
    assert all(isinstance(e, ConflictError) for e in refused), refused
    assert all("already acknowledged" in e.message for e in refused)
    incident.refresh_from_db()
    assert incident.acknowledged_at == won[0].acknowledged_at
    entries = incident.timeline.filter(kind=TimelineEntry.Kind.ACKNOWLEDGEMENT)
    assert entries.count() == 1
    assert entries.get().occurred_at == incident.acknowledged_at
    assert [name for name, _ in events_log] == ["incident_acknowledged"]


@pytest.fixture
def four_ics(people, make_user):
    """Four people certified without expiry (the race runs on the real clock)."""
    extra = []
    for name in ("cleo", "cyd", "cass"):
        user = make_user(name, roles.RESPONDERS, first_name=name.title())
        Profile.objects.update_or_create(
            user=user,
            defaults={"ic_certified_on": date(2024, 1, 1), "ic_certification_expires": None},
        )
        extra.append(user)
    return [people.certified_too, *extra]


@pytest.mark.parametrize("trial", range(8))
def test_concurrent_ic_hand_overs_chain_in_order(
    transactional_db, declare, people, four_ics, events_log, trial
):
    incident = declare(f"Trial {trial}")
    events_log.clear()
    results, errors = race(
        [
            lambda who=who: services.role_assign(
                incident=incident, role=IC, user=who, by=people.manager
            )
            for who in four_ics
        ]
    )

    assert errors == [None] * 4
    rows = list(incident.roles.filter(role=IC).order_by("assigned_at", "id"))
    assert len(rows) == 4
    assert [r.relieved_at is None for r in rows] == [False, False, False, True]
    for row in rows[:-1]:
        assert row.relieved_at >= row.assigned_at, (row.user, row.assigned_at, row.relieved_at)
    # Each hand-over relieved the holder just before it, at the moment it took over.
    for held, took_over in zip(rows, rows[1:], strict=False):
        assert held.relieved_at == took_over.assigned_at
    texts = list(
        incident.timeline.filter(kind=TimelineEntry.Kind.ROLE)
        .order_by("occurred_at", "id")
        .values_list("text", flat=True)
    )
    assert len(texts) == 4
    assert texts[0].endswith("is now Incident Commander (assigned by Mia)")
    assert all("took over as Incident Commander from" in text for text in texts[1:])
    names = [name for name, _ in events_log]
    assert (names.count("role_assigned"), names.count("role_relieved")) == (4, 3)


def test_concurrent_impact_updates_cross_a_threshold_once(
    transactional_db, declare, people, settings
):
    settings.CHAT_WEBHOOK_URL = ""  # email only: one delivery row per person
    cfo = FinancialThreshold.objects.create(amount=Decimal("1000"), audience="CFO")
    cfo.notify_users.add(people.manager)
    incident = declare()

    results, errors = race(
        [
            lambda amount=amount: services.incident_update(
                incident=incident, user=people.responder, data={"financial_impact": amount}
            )
            for amount in ("5000", "6000", "7000", "8000")
        ]
    )

    assert errors == [None] * 4
    crossing = ThresholdCrossing.objects.get(incident=incident)
    assert crossing.notified_at is not None
    assert Delivery.objects.count() == 1
    assert incident.timeline.filter(kind=TimelineEntry.Kind.THRESHOLD).count() == 1
    assert incident.timeline.filter(kind=TimelineEntry.Kind.IMPACT).count() == 4
