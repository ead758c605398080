"""Shared fixtures of the escalation tests (no tests here; the other files import these).

The story's clock: the primary layer rotates Alice, Bob, Carol weekly from ``T0`` (Monday 3
March 2025, 09:00 London = UTC); incidents are declared at ``D`` (an hour later, Alice on
call) and the engine is ticked with ``now=D + minutes``.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from incidents.services import incident_declare
from ircore.models import NotificationEndpoint, Service, Severity
from oncall.models import EscalationPolicy, EscalationStep, Page
from oncall.services.escalation import escalation_start, escalation_tick

from .conftest import T0

D = T0 + timedelta(hours=1)


def at(minutes: float) -> object:
    return D + timedelta(minutes=minutes)


@pytest.fixture
def sev(db):
    """SEV-1 (pages at once), SEV-2, SEV-3."""
    made = [
        Severity.objects.create(key=key, rank=rank, name=name, page_immediately=rank == 1)
        for rank, (key, name) in enumerate(
            [("SEV-1", "Critical"), ("SEV-2", "High"), ("SEV-3", "Medium")], start=1
        )
    ]
    return SimpleNamespace(one=made[0], two=made[1], three=made[2])


@pytest.fixture
def org(crew, make_user, team, make_layer):
    """The people above the on-call: Payments' lead (Dave) and manager (Bea, ``boss``), a VP
    Engineering, a CTO and a CEO; an executive-team mailing list; the service; the layer."""
    team.lead, team.manager = crew.dave, crew.boss
    team.save()
    service = Service.objects.create(name="Payments API", slug="payments-api", team=team)
    return SimpleNamespace(
        **vars(crew),
        team=team,
        service=service,
        layer=make_layer([crew.alice, crew.bob, crew.carol], name="Primary"),
        vp=make_user("vp", first_name="Vera", last_name="VP"),
        cto=make_user("cto", first_name="Cy", last_name="CTO"),
        ceo=make_user("ceo", first_name="Cee", last_name="CEO"),
        declarer=make_user("dora", first_name="Dora", last_name="Declarer"),
        execs=NotificationEndpoint.objects.create(
            name="Executive team", kind="email", target="exec-team@example.com"
        ),
    )


@pytest.fixture
def make_policy(db):
    """A policy from ``(minutes, target, extra)`` steps; extra may hold ``unless``,
    ``severities`` and the target's field."""

    def make(name, steps, **values):
        values.setdefault("is_default", True)
        policy = EscalationPolicy.objects.create(name=name, **values)
        for position, (minutes, target, extra) in enumerate(steps, start=1):
            extra = dict(extra)
            severities = extra.pop("severities", ())
            step = EscalationStep.objects.create(
                policy=policy,
                position=position,
                delay=timedelta(minutes=minutes),
                target=target,
                **extra,
            )
            step.severities.set(severities)
        return policy

    return make


@pytest.fixture
def declare(org, sev):
    """Declare at ``D`` (or ``minutes`` later) and start its escalation, as the receiver does
    after commit (tests run in a transaction that never commits)."""

    def make(severity=None, minutes=0, **kwargs):
        kwargs.setdefault("services", [org.service])
        kwargs.setdefault("user", org.declarer)
        incident = incident_declare(
            title="Payments failing", severity=severity or sev.two, now=at(minutes), **kwargs
        )
        escalation_start(incident=incident, now=at(minutes))
        return incident

    return make


def tick(minutes: float) -> int:
    return escalation_tick(now=at(minutes))


def run(until: float, every: float = 0.5) -> None:
    """Tick every ``every`` minutes from 0 to ``until``, like a beat."""
    n = 0
    while n * every <= until:
        tick(n * every)
        n += 1


def paged(incident=None) -> list[tuple[str, float]]:
    """(recipient username or endpoint name, minutes after D it was paged), in order."""
    pages = Page.objects.order_by("paged_at", "step", "id").select_related("recipient", "endpoint")
    if incident is not None:
        pages = pages.filter(incident=incident)
    return [
        (
            p.recipient.username if p.recipient_id else p.endpoint.name,
            (p.paged_at - D).total_seconds() / 60,
        )
        for p in pages
    ]
