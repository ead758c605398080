"""The ``drills`` and ``cost`` sections of the policy file: a bad entry is named and nothing is
written; a plan the file leaves out is removed and its scenarios replaced; history says
"policy import" and who."""

import copy
from pathlib import Path

import pytest

from ircore import policy
from ircore.policy import PolicyError
from postmortems.models import CostRates, DrillPlan, DrillScenario

POLICY = Path(__file__).resolve().parents[2] / "policies" / "notification-service.yaml"


@pytest.fixture
def document(db):
    return copy.deepcopy(policy.load_policy_file(POLICY))


def problems(document) -> list[str]:
    with pytest.raises(PolicyError) as refused:
        policy.import_policy(document)
    return refused.value.problems


def test_bad_drill_entries_are_each_named(document):
    tabletop, game_day, chaos = document["drills"]
    tabletop["kind"] = "fire_drill"
    game_day["every"] = "fortnight"
    game_day["ack_target"] = "15 minutes"
    game_day["scenarios"][1]["quarter"] = 1
    game_day["scenarios"].append({"quarter": 5, "scenario": "Q5?"})
    chaos["colour"] = "red"

    found = problems(document)

    assert found == [
        'drills[0] (fire_drill).kind: "fire_drill" is not a kind of drill (tabletop, game_day, '
        "chaos)",
        'drills[1] (game_day).every: "fortnight" is not a cadence (month, quarter, year)',
        'drills[1] (game_day).ack_target: "15 minutes" is not a duration (use e.g. 5m, 4h, 2d)',
        "drills[1] (game_day).scenarios[1].quarter: Q1 is used twice (also drills[1] "
        "(game_day).scenarios[0])",
        "drills[1] (game_day).scenarios[4].quarter: 5 must be between 1 and 4",
        'drills[2] (chaos).colour: unknown field "colour" (known: kind, every, description, '
        "detect_target, ack_target, resolve_target, scenarios)",
    ]
    assert not DrillPlan.objects.exists() and not CostRates.objects.exists()


def test_a_kind_listed_twice_is_refused(document):
    document["drills"].append(copy.deepcopy(document["drills"][0]))
    assert problems(document) == [
        'drills[3] (tabletop).kind: "tabletop" is used twice (also drills[0] (tabletop))'
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"hourly_cost": -1},
            "cost[0] (Responder labour).hourly_cost: -1 must be at least 0 and less than "
            "1,000,000,000,000",
        ),
        (
            {"role_weights": {"ic": "heavy"}},
            'cost[0] (Responder labour).role_weights.ic: "heavy" is not a number (use e.g. 100 '
            "or 1.5)",
        ),
        (
            {"role_weights": {"scribe": 1}},
            "cost[0] (Responder labour).role_weights.scribe: not a role (known: ic, tech_lead, "
            "comms_lead, sme, exec_sponsor)",
        ),
        (
            {"paged_weight": 1.234},
            "cost[0] (Responder labour).paged_weight: 1.234 has more than 2 decimals",
        ),
        ({"hourly_cost": None}, "cost[0] (Responder labour).hourly_cost: is required"),
    ],
)
def test_bad_cost_rates_are_named(document, change, problem):
    document["cost"][0].update(change)
    assert problems(document) == [problem]


def test_one_set_of_rates(document):
    document["cost"].append({**document["cost"][0], "name": "Contractors"})
    assert problems(document) == ["cost: 2 entries; an install has one set of rates (give one)"]


def test_a_plan_left_out_is_removed_and_scenarios_are_replaced(document, cast):
    policy.import_policy(copy.deepcopy(document), user=cast.manager)
    document["drills"] = [d for d in document["drills"] if d["kind"] != "chaos"]
    game_day = document["drills"][1]
    game_day["scenarios"] = [{"quarter": 1, "scenario": "Payment provider outage"}]

    summary = policy.import_policy(document, user=cast.manager)

    assert str(summary.counts["drills"]) == "0 created, 0 updated, 1 deleted"
    assert str(summary.counts["drill scenarios"]) == "0 created, 1 updated, 3 deleted"
    assert set(DrillPlan.objects.values_list("kind", flat=True)) == {"tabletop", "game_day"}
    assert list(DrillScenario.objects.values_list("quarter", "scenario")) == [
        (1, "Payment provider outage")
    ]
    changed = DrillScenario.history.filter(quarter=1).latest("history_id")
    assert (changed.history_user, changed.history_change_reason) == (cast.manager, "policy import")
    removed = DrillPlan.history.get(kind="chaos", history_type="-")
    assert removed.history_user == cast.manager


def test_the_cost_rates_change_in_place(document, cast):
    policy.import_policy(copy.deepcopy(document), user=cast.manager)
    document["cost"][0]["role_weights"]["ic"] = 2
    document["cost"][0]["hourly_cost"] = 85.5

    summary = policy.import_policy(document, user=cast.manager)

    assert str(summary.counts["cost"]) == "0 created, 1 updated, 0 deleted"
    rates = CostRates.objects.get()
    assert str(rates.hourly_cost) == "85.50" and str(rates.weight_of("ic")) == "2.00"
    assert policy.export_policy()["cost"][0]["hourly_cost"] == 85.5
