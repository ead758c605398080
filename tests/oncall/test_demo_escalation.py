"""The demo pages someone with no setup: each demo team has an escalation policy on its
rotation, and the worker's first tick after ``bootstrap`` pages the open demo incident's
secondary on-call and its team's manager (the incident was acknowledged, not identified)."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from incidents.models import Incident
from ircore.policy import registry
from oncall import policy as oncall_policy
from oncall.models import EscalationPolicy, Layer, Page
from oncall.selectors import layer_on_call
from oncall.services.escalation import escalation_tick

# A Wednesday afternoon: in the middle of a demo rotation's week.
NOW = datetime(2026, 3, 11, 14, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """The on-call policy sections, as ``OncallConfig.ready()`` registers them (the default
    policy file bootstrap loads carries an escalation section)."""
    monkeypatch.setattr(registry, "_SECTIONS", dict(registry._SECTIONS))
    oncall_policy.register()


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with time_machine.travel(NOW, tick=False):
        call_command("bootstrap", stdout=StringIO())


def test_every_demo_team_has_a_policy_on_its_rotation(demo):
    policies = EscalationPolicy.objects.order_by("name")

    assert [p.name for p in policies] == [
        "Default escalation",  # from policies/default.yaml
        "Payments escalation",
        "Platform escalation",
        "Support escalation",
    ]
    payments = policies.get(team__slug="payments")
    steps = list(payments.steps.order_by("position"))
    assert [(s.delay, s.unless, s.target) for s in steps] == [
        (timedelta(0), "acknowledged", "layer"),
        (timedelta(minutes=10), "identified", "layer"),
        (timedelta(minutes=15), "identified", "team_manager"),
        (timedelta(hours=1), "resolved", "team_lead"),
    ]
    assert [s.layer.name for s in steps[:2]] == ["Primary", "Secondary"]
    assert steps[0].layer.schedule.team.slug == "payments"


def test_the_first_tick_pages_the_open_incident(demo):
    incident = Incident.objects.get(status="investigating")
    secondary = Layer.objects.get(schedule__team__slug="payments", name="Secondary")

    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        made = escalation_tick()
        on_call = layer_on_call(layer=secondary)

    pages = list(Page.objects.filter(incident=incident).order_by("step"))
    # Declared 20 minutes before: step 1 (unless acknowledged) is skipped, steps 2 and 3
    # (10 and 15 minutes, unless identified) are due, step 4 (an hour) is not yet.
    assert made == 2
    assert [(p.step, p.recipient.username) for p in pages] == [
        (2, on_call.username),
        (3, "maria"),  # the Payments manager
    ]
    assert all(p.delivery is not None and p.delivery.channel == "email" for p in pages)
    # The resolved demo incidents page nobody; the only other page is the game day's, which
    # the drill made when it ran (a drill exercises paging), not this tick.
    others = Page.objects.exclude(incident=incident)
    assert not others.filter(incident__is_drill=False).exists()
    assert list(others.values_list("incident__is_drill", "step")) == [(True, 1)]
    # A second tick pages nobody twice.
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        assert escalation_tick() == 0


def test_bootstrap_twice_makes_the_policies_once(demo):
    with time_machine.travel(NOW, tick=False):
        call_command("bootstrap", stdout=StringIO())

    assert EscalationPolicy.objects.filter(team__isnull=False).count() == 3
