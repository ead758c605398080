"""The ``drills`` and ``cost`` sections of each policy file (``policies/*.yaml``), read through
the real importer into a fresh install: each kind's cadence, targets and quarterly scenarios
as 003_* (the one seed with a drill programme) states them, the other files' targets from
their own seed's numbers (quoted next to each row; documents in ``/work/shared/seeds/``), and
the responder labour rates."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ircore import policy
from postmortems.models import CostRates, DrillPlan

POLICIES = Path(__file__).resolve().parents[2] / "policies"
FILES = sorted(POLICIES.glob("*.yaml"))
m, h = timedelta(minutes=1), timedelta(hours=1)

# 003_* "Quarterly Drill Schedule".
QUARTERS = [
    (1, "Notification system failure simulation"),
    (2, "Database corruption and recovery drill"),
    (3, "Security breach response exercise"),
    (4, "Multi-vendor outage coordination test"),
]
# (detect, ack, resolve) of a game day and a chaos experiment; a tabletop has no detection.
TARGETS = {
    # 003_*: "Failed notifications >5% in 15 minutes"; P0 "Response time: 15 minutes
    # acknowledgment"; "Activate disaster recovery site (RTO: 1 hour)".
    "notification-service.yaml": (15 * m, 15 * m, h),
    # 004_* "MTTD ... Target <5 minutes"; 000_* SEV-1 "5 minutes", "Expected Resolution: < 1 hour".
    "default.yaml": (5 * m, 5 * m, h),
    # 000_* SEV-1 "Response Time: 5 minutes", "Expected Resolution: < 1 hour"; no detection.
    "fintech.yaml": (None, 5 * m, h),
    # 001_* P0 "Response time: Immediate" (the file's 5m); no detection or resolution target.
    "p0-p3.yaml": (None, 5 * m, None),
    # 002_* SEV-1 "Response time: 15 minutes"; no detection or resolution target.
    "supply-chain-finance.yaml": (None, 15 * m, None),
    # 004_* "MTTD: Target <5 minutes", "MTTA: Target <5 minutes for SEV-1", "MTTR: Target
    # <2 hours for SEV-1".
    "team-ownership.yaml": (5 * m, 5 * m, 2 * h),
}


def load(path: Path) -> dict[str, DrillPlan]:
    policy.import_policy(policy.load_policy_file(path))
    return {p.kind: p for p in DrillPlan.objects.prefetch_related("scenarios")}


def targets(plan: DrillPlan) -> tuple:
    return (plan.detect_target, plan.ack_target, plan.resolve_target)


def test_every_file_is_listed():
    assert set(TARGETS) == {f.name for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_plans_the_three_kinds_on_003s_cadence(db, path):
    plans = load(path)

    assert set(plans) == {"tabletop", "game_day", "chaos"}
    # "Tabletop Exercises (Monthly)", "Game Day Exercises (Quarterly)", "Chaos Engineering
    # (Monthly)"
    assert {k: p.every for k, p in plans.items()} == {
        "tabletop": "month",
        "game_day": "quarter",
        "chaos": "month",
    }
    # "Scenario-based discussions without system changes"
    assert plans["tabletop"].description.startswith("Scenario-based discussions")
    # "Controlled production environment testing", "Intentional system failures in staging"
    assert plans["game_day"].description.startswith("Controlled production environment")
    assert plans["chaos"].description.startswith("Intentional system failures in staging")
    # "Quarterly Drill Schedule": the game days' scenarios.
    scenarios = [(s.quarter, s.scenario) for s in plans["game_day"].scenarios.all()]
    assert scenarios == QUARTERS
    assert not plans["tabletop"].scenarios.exists() and not plans["chaos"].scenarios.exists()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_sets_the_targets_its_seed_states(db, path):
    plans = load(path)
    detect, ack, resolve = TARGETS[path.name]

    assert targets(plans["game_day"]) == (detect, ack, resolve)
    assert targets(plans["chaos"]) == (detect, ack, resolve)
    # "without system changes": nothing for a monitor to detect.
    assert targets(plans["tabletop"]) == (None, ack, resolve)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_prices_responder_labour(db, path):
    load(path)

    rates = CostRates.objects.get()
    # No seed names an hourly cost (003_*: "Engineering time: $X (Y hours × $Z/hour)"): the
    # files' example figure and weights, the same in each.
    assert rates.name == "Responder labour"
    assert rates.hourly_cost == Decimal(100)
    assert rates.paged_weight == Decimal(1)
    weights = {role: rates.weight_of(role) for role in ("ic", "tech_lead", "comms_lead", "sme")}
    assert weights == {
        "ic": Decimal("1.5"),
        "tech_lead": Decimal("1.25"),
        "comms_lead": Decimal(1),
        "sme": Decimal(1),
    }
    assert rates.weight_of("exec_sponsor") == Decimal(2)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_files_sections_round_trip(db, path):
    document = policy.load_policy_file(path)
    policy.import_policy(document)

    exported = policy.export_policy()

    assert exported["drills"] == document["drills"]
    assert exported["cost"] == document["cost"]
    assert not policy.import_policy(exported).changed
