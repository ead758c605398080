"""The ``escalation`` policy section: policies and steps by natural key, round trips, every
target kind, e-mail endpoints a file brings, refusals that name the entry and change
nothing."""

import copy
from datetime import timedelta

import pytest
import time_machine

from ircore import policy
from ircore.models import NotificationEndpoint, Service, Severity
from ircore.policy import registry
from oncall import policy as oncall_policy
from oncall.models import EscalationPolicy, EscalationStep

from .conftest import at

NOW = at(days=10)


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    monkeypatch.setattr(registry, "_SECTIONS", dict(registry._SECTIONS))
    oncall_policy.register()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(db, team, schedule, make_layer, crew):
    for rank, key in enumerate(("SEV-1", "SEV-2", "SEV-3"), start=1):
        Severity.objects.create(key=key, rank=rank, name=key)
    Service.objects.create(name="Payments API", slug="payments-api", team=team)
    make_layer([crew.alice, crew.bob], name="Primary", level=1)
    NotificationEndpoint.objects.create(
        name="Ops chat", kind="chat", target="https://hooks.example.com/T0/SECRET"
    )
    return crew


def policies():
    return [
        {
            "name": "Payments",
            "description": "The payments team's chain.",
            "default": False,
            "team": "payments",
            "service": None,
            "repeat_last": 1,
            "repeat_times": 2,
            "repeat_after": "10m",
            "steps": [
                {
                    "delay": "0s",
                    "unless": "acknowledged",
                    "severities": [],
                    "target": "layer",
                    "layer": "payments-on-call/Primary",
                },
                {
                    "delay": "5m",
                    "unless": "acknowledged",
                    "severities": ["SEV-1"],
                    "target": "team_manager",
                    "team": None,
                },
                {
                    "delay": "15m",
                    "unless": "identified",
                    "severities": ["SEV-1", "SEV-2"],
                    "target": "user",
                    "user": "boss",
                },
                {
                    "delay": "2h",
                    "unless": "resolved",
                    "severities": ["SEV-1"],
                    "target": "endpoint",
                    "endpoint": "VP Engineering",
                    "email": "vp@example.com",
                },
            ],
        },
        {
            "name": "Everything else",
            "description": "",
            "default": True,
            "team": None,
            "service": None,
            "repeat_last": 0,
            "repeat_times": 0,
            "repeat_after": "10m",
            "steps": [
                {
                    "delay": "0s",
                    "unless": "acknowledged",
                    "severities": [],
                    "target": "role",
                    "role": "ic",
                },
                {
                    "delay": "30m",
                    "unless": "mitigated",
                    "severities": [],
                    "target": "team_lead",
                    "team": "payments",
                },
                {
                    "delay": "1h",
                    "unless": "resolved",
                    "severities": ["SEV-3"],
                    "target": "endpoint",
                    "endpoint": "Ops chat",
                },
            ],
        },
    ]


def exported():
    return policy.export_policy()["escalation"]


def test_every_target_kind_imports_and_exports_by_natural_key(world):
    summary = policy.import_policy({"version": 1, "escalation": policies()}, user=world.boss)

    assert summary.counts["escalation"].created == 2
    assert summary.counts["escalation steps"].created == 7
    # Sorted by name, as exported.
    assert exported() == sorted(policies(), key=lambda p: p["name"])
    payments = EscalationPolicy.objects.get(name="Payments")
    assert payments.team.slug == "payments" and not payments.is_default
    assert (payments.repeat_last, payments.repeat_times) == (1, 2)
    steps = list(payments.steps.order_by("position"))
    assert [s.position for s in steps] == [1, 2, 3, 4]
    assert [s.delay for s in steps] == [
        timedelta(0),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=2),
    ]
    assert steps[0].layer.name == "Primary" and steps[2].user == world.boss
    assert steps[1].team is None  # the incident's service's team
    vp = NotificationEndpoint.objects.get(name="VP Engineering")
    assert (vp.kind, vp.target) == ("email", "vp@example.com")
    record = steps[0].history.first()
    assert (record.history_user, record.history_change_reason) == (world.boss, "policy import")
    # The chat endpoint's URL is a credential: it never leaves the install.
    assert "SECRET" not in str(exported())


def test_export_then_import_changes_nothing(world):
    policy.import_policy({"version": 1, "escalation": policies()})
    steps_before = list(EscalationStep.objects.values_list("pk", flat=True))

    assert not policy.import_policy({"version": 1, "escalation": exported()}).changed
    assert list(EscalationStep.objects.values_list("pk", flat=True)) == steps_before


def test_changed_steps_replace_the_old_ones(world):
    policy.import_policy({"version": 1, "escalation": policies()})
    doc = policies()
    doc[0]["steps"][1]["delay"] = "10m"
    doc[0]["steps"].pop()

    summary = policy.import_policy({"version": 1, "escalation": doc})

    assert summary.counts["escalation"].updated == 1
    assert (
        summary.counts["escalation steps"].deleted,
        summary.counts["escalation steps"].created,
    ) == (4, 3)
    payments = EscalationPolicy.objects.get(name="Payments")
    assert [s.delay for s in payments.steps.order_by("position")] == [
        timedelta(0),
        timedelta(minutes=10),
        timedelta(minutes=15),
    ]


def test_the_default_and_a_team_can_move_between_policies_in_one_import(world):
    policy.import_policy({"version": 1, "escalation": policies()})
    doc = policies()
    doc[0]["default"], doc[1]["default"] = True, False
    doc[0]["team"], doc[1]["team"] = None, "payments"

    policy.import_policy({"version": 1, "escalation": doc})

    assert EscalationPolicy.objects.get(is_default=True).name == "Payments"
    assert EscalationPolicy.objects.get(team__slug="payments").name == "Everything else"


def test_a_layer_of_the_same_files_schedules_section_is_known(world):
    doc = policy.export_policy()
    doc["schedules"][0]["layers"][0]["name"] = "First line"
    doc["escalation"] = policies()
    doc["escalation"][0]["steps"][0]["layer"] = "payments-on-call/First line"

    policy.import_policy(doc)

    step = EscalationStep.objects.get(target="layer")
    assert step.layer.name == "First line"


def test_every_bad_step_is_named_and_nothing_is_written(world):
    doc = policies()
    before = exported()
    steps = doc[0]["steps"]
    steps[0]["layer"] = "payments-on-call/Tertiary"
    steps[1]["severities"] = ["SEV-9"]
    steps[1]["user"] = "boss"
    steps[2]["user"] = "nobody"
    steps[2]["unless"] = "fixed"
    steps[3]["target"] = "pager"
    doc[1]["default"] = True
    doc[0]["default"] = True
    doc[1]["steps"][2]["endpoint"] = "Nowhere"
    doc[1]["steps"][0]["role"] = "boss"
    doc[1]["repeat_last"] = 5

    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy({"version": 1, "escalation": doc})

    problems = caught.value.problems
    first, second = "escalation[0] (Payments)", "escalation[1] (Everything else)"
    expected = [
        f'{first}.steps[0].layer: unknown layer "payments-on-call/Tertiary"',
        f'{first}.steps[1].severities[0]: unknown severity "SEV-9"',
        f'{first}.steps[1].user: is not used by target "team_manager"',
        f'{first}.steps[2].user: unknown user "nobody"',
        f'{first}.steps[2].unless: unknown point "fixed"',
        f'{first}.steps[3].target: unknown target "pager"',
        f"{second}.default: the default is used twice",
        f'{second}.steps[2].endpoint: unknown endpoint "Nowhere"',
        f'{second}.steps[0].role: unknown role "boss"',
        f"{second}.repeat_last: repeats 5 steps of 3",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert exported() == before == []
    assert not NotificationEndpoint.objects.filter(name="VP Engineering").exists()


def test_a_file_without_the_section_leaves_policies_alone(world):
    policy.import_policy({"version": 1, "escalation": policies()})
    before = exported()

    policy.import_policy({"version": 1})

    assert exported() == before


def test_policies_the_file_no_longer_lists_are_removed(world):
    policy.import_policy({"version": 1, "escalation": policies()})
    doc = copy.deepcopy(policies()[:1])

    summary = policy.import_policy({"version": 1, "escalation": doc})

    assert summary.counts["escalation"].deleted == 1
    assert list(EscalationPolicy.objects.values_list("name", flat=True)) == ["Payments"]


def test_a_step_cannot_keep_a_layer_the_schedules_section_removes(world):
    policy.import_policy({"version": 1, "escalation": policies()})
    doc = policy.export_policy()
    doc["schedules"][0]["layers"] = []
    del doc["escalation"]

    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy(doc)

    assert "cannot be removed: still referenced by 1 escalation step" in caught.value.problems[0]
