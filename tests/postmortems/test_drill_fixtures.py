"""Shared fixtures of the drill and cost tests (no tests here; the other files import these).

The world: the shipped default policy (its drill plans and cost rates included), the test
cast (``mia`` manager, ``rob`` responder, ``sue`` support, ``leo`` leadership, ``oscar``
outsider) plus a second responder, ``ann``; the Payments team and its Payments API service;
a weekly on-call layer from ``START`` rotating Ann then Rob; an escalation policy for the
service that pages the layer's on-call at once unless acknowledged; an Alertmanager
integration that routes by the ``service`` label. ``T`` (Wednesday 5 March 2025, 10:00 UTC,
Ann on call) is when the drills run.
"""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from incidents.alerts.models import Integration, RoutingRule
from incidents.alerts.services import integration_create
from ircore import policy, roles
from ircore.models import Service, Team
from oncall import services as oncall
from oncall.models import EscalationPolicy, EscalationStep
from postmortems.models import Drill
from postmortems.services import drills

POLICY = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"
START = date(2025, 3, 3)
T = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


@pytest.fixture
def world(cast, make_user):
    policy.import_policy(policy.load_policy_file(POLICY))
    ann = make_user("ann", roles.RESPONDERS, first_name="Ann", last_name="Lee")
    rob = cast.responder
    rob.first_name, rob.last_name = "Rob", "Ray"
    rob.save()
    team = Team.objects.create(name="Payments", slug="payments", lead=rob, manager=cast.manager)
    service = Service.objects.create(name="Payments API", slug="payments-api", team=team)
    schedule = oncall.schedule_create(
        team=team, name="Payments on call", time_zone="UTC", by=cast.manager
    )
    layer = oncall.layer_create(
        schedule=schedule,
        by=cast.manager,
        name="Primary",
        level=1,
        kind="weekly",
        start_date=START,
        handoff_time=time(9),
        members=[ann, rob],
        accept_warnings=True,
        now=datetime(2025, 3, 1, tzinfo=UTC),
    ).obj
    escalation = EscalationPolicy.objects.create(name="Payments API paging", service=service)
    EscalationStep.objects.create(
        policy=escalation,
        position=1,
        delay=timedelta(0),
        target=EscalationStep.Target.LAYER,
        layer=layer,
    )
    integration, _token = integration_create(
        name="Prometheus", kind=Integration.Kind.ALERTMANAGER, user=cast.manager
    )
    RoutingRule.objects.create(
        integration=integration, position=1, label="service", value=service.slug, service=service
    )
    return SimpleNamespace(
        **vars(cast),
        rob=rob,
        ann=ann,
        team=team,
        service=service,
        layer=layer,
        integration=integration,
    )


@pytest.fixture
def game_day(world):
    """A game day on Payments API for Ann and Rob, scheduled at ``T`` by Mia."""
    return drills.drill_schedule(
        kind=Drill.Kind.GAME_DAY,
        scheduled_for=T,
        service=world.service,
        integration=world.integration,
        participants=[world.ann, world.rob],
        user=world.manager,
    )
