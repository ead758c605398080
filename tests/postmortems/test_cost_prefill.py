"""The cost pre-fill on a known incident, worked out by hand; adjustments that keep the
pre-filled figure and history; the total the reports sum; the receiver on resolution.

The incident (declared at D = 10:00 UTC on SEV-2, impact from 09:50, detected 09:55):
- 10:00 the engine pages Ann (on call; "unless acknowledged"), who acknowledges at 10:03:
  paged from 10:00 to the end.
- 10:05 Rob becomes Incident Commander; 10:35 he hands over to Ann: 30 min as IC.
- 10:10 Ann becomes Tech Lead (kept to the end); 10:35 she is IC as well.
- 10:15 the engine pages Mia (the team's manager; "unless identified"); identified at 10:25
  stops her page: 10 min paged.
- 11:00 monitoring (mitigated), 11:30 resolved.

Labour, weighted minutes (rates: 100 an hour; IC 1.5, Tech Lead 1.25, paged 1):
  Rob 30 × 1.5 = 45; Mia 10 × 1 = 10;
  Ann 10:00-10:10 paged 10 × 1 = 10, 10:10-10:35 Tech Lead 25 × 1.25 = 31.25,
      10:35-11:30 IC (her highest) 55 × 1.5 = 82.5: 123.75;
  178.75 weighted minutes = 2.979166... h × 100 = 297.92.
Revenue at risk, 09:50 to 11:00 = 70 min: Payments API 120/min = 8,400; Webhooks 10/min = 700:
  9,100.00.
SLA credits: Payments API 2,000 (70 min > 15 min grace); Webhooks has none: 2,000.00.
Total 11,397.92.
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from incidents.models import Incident, RoleAssignment
from incidents.services import (
    affected_service_set,
    incident_declare,
    incident_set_status,
    role_assign,
)
from ircore.errors import RuleError
from ircore.models import Service, Severity
from oncall.models import EscalationPolicy, EscalationStep
from oncall.services.escalation import (
    escalation_acknowledge,
    escalation_start,
    escalation_tick,
    escalation_update,
)
from postmortems.models import CostAssessment, CostLine, CostRates, ServiceCost
from postmortems.services.cost import cost_adjust, cost_prefill, cost_recompute_total

from .test_drill_fixtures import *  # noqa: F403  (the fixtures)
from .test_drill_fixtures import T

D = T
Key = CostLine.Key


def at(minutes: float):
    return D + timedelta(minutes=minutes)


@pytest.fixture
def incident(world):
    """The incident of the module docstring, resolved at 11:30."""
    EscalationStep.objects.create(
        policy=EscalationPolicy.objects.get(service=world.service),
        position=2,
        delay=timedelta(minutes=15),
        unless="identified",
        target=EscalationStep.Target.TEAM_MANAGER,
    )
    webhooks = Service.objects.create(name="Webhooks", slug="webhooks", team=world.team)
    ServiceCost.objects.create(
        service=world.service,
        revenue_per_minute=Decimal(120),
        sla_credit=Decimal(2000),
        sla_credit_after=timedelta(minutes=15),
    )
    ServiceCost.objects.create(service=webhooks, revenue_per_minute=Decimal(10))
    made = incident_declare(
        title="Card payments failing",
        severity=Severity.objects.get(key="SEV-2"),
        services=[world.service],
        impact_started_at=at(-10),
        detected_at=at(-5),
        user=world.rob,
        now=at(0),
    )
    affected_service_set(
        incident=made, service=webhooks, status="degraded", user=world.rob, now=at(1)
    )
    escalation_start(incident=made, now=at(0))
    escalation_tick(now=at(0))
    escalation_acknowledge(incident=made, user=world.ann, via="admin", now=at(3))
    ic = RoleAssignment.Role.INCIDENT_COMMANDER
    for minutes, role, person in (
        (5, ic, world.rob),
        (10, RoleAssignment.Role.TECH_LEAD, world.ann),
        (35, ic, world.ann),
    ):
        role_assign(
            incident=made,
            role=role,
            user=person,
            by=world.manager,
            override_reason="Test: not certified",
            now=at(minutes),
        )
    escalation_tick(now=at(15))
    incident_set_status(incident=made, status="identified", user=world.ann, now=at(25))
    escalation_update(incident=made, now=at(25))
    incident_set_status(incident=made, status="monitoring", user=world.ann, now=at(60))
    incident_set_status(incident=made, status="resolved", user=world.ann, now=at(90))
    made.refresh_from_db()
    return made


def lines(assessment) -> dict:
    return {line.key: line for line in assessment.lines.all()}


def test_the_prefill_of_a_known_incident_matches_the_hand_computation(world, incident):
    assessment = cost_prefill(incident=incident, user=world.manager, now=at(200))

    got = lines(assessment)
    assert [line.key for line in assessment.lines.order_by("position")] == [
        "engineering_time",
        "vendor_support",
        "infrastructure",
        "third_party",
        "lost_revenue",
        "sla_penalties",
        "customer_retention",
        "reputation",
        "prevention",
        "monitoring",
        "process",
        "training",
    ]
    assert [got[k].category for k in (Key.ENGINEERING_TIME, Key.LOST_REVENUE, Key.TRAINING)] == [
        "direct",
        "indirect",
        "recovery",
    ]
    assert got[Key.ENGINEERING_TIME].prefilled == Decimal("297.92")
    assert got[Key.LOST_REVENUE].prefilled == Decimal("9100.00")
    assert got[Key.SLA_PENALTIES].prefilled == Decimal("2000.00")
    prefilled = (Key.ENGINEERING_TIME, Key.LOST_REVENUE, Key.SLA_PENALTIES)
    assert all(line.prefilled is None for key, line in got.items() if key not in prefilled)
    assert assessment.total == Decimal("11397.92")
    assert CostAssessment.objects.get().total == Decimal("11397.92")

    # The basis shows the sums a person checks.
    labour = got[Key.ENGINEERING_TIME].basis
    assert labour.startswith("2.98 h weighted × 100.00/h = 297.92. ")
    assert "Ann Lee: 0.17 h paged (×1), 0.42 h as Tech Lead (×1.25), 0.92 h as Incident " in (
        labour
    )
    assert "mia: 0.17 h paged (×1)" in labour
    assert "Rob Ray: 0.50 h as Incident Commander (×1.5)" in labour
    assert got[Key.LOST_REVENUE].basis == (
        "Payments API: 70 min × 120.00/min = 8,400.00; Webhooks: 70 min × 10.00/min = 700.00."
    )
    assert got[Key.SLA_PENALTIES].basis == "Payments API: 2,000.00 (outage over 15m)."


def test_adjusting_keeps_the_prefilled_figure_and_history_keeps_both(world, incident):
    assessment = cost_prefill(incident=incident, user=world.manager, now=at(200))
    labour = lines(assessment)[Key.ENGINEERING_TIME]

    cost_adjust(
        line=labour, amount="450.00", note="Two more engineers off the books", user=world.manager
    )
    cost_adjust(line=lines(assessment)[Key.VENDOR_SUPPORT], amount=1200, user=world.manager)

    labour.refresh_from_db()
    assert (labour.prefilled, labour.amount, labour.value) == (
        Decimal("297.92"),
        Decimal("450.00"),
        Decimal("450.00"),
    )
    assessment.refresh_from_db()
    assert assessment.total == Decimal("450.00") + 9100 + 2000 + 1200
    versions = list(labour.history.order_by("history_id"))
    assert [(v.prefilled, v.amount, v.history_change_reason) for v in versions] == [
        (None, None, "opened"),
        (Decimal("297.92"), None, "pre-filled"),
        (Decimal("297.92"), Decimal("450.00"), "adjusted"),
    ]
    assert versions[-1].history_user == world.manager
    assert versions[-1].note == "Two more engineers off the books"

    # A refresh works the pre-fill out again and leaves the person's figure alone.
    ServiceCost.objects.filter(service=world.service).update(revenue_per_minute=Decimal(100))
    cost_prefill(incident=incident, user=world.manager, now=at(300))
    got = lines(assessment)
    assert got[Key.LOST_REVENUE].prefilled == Decimal("7700.00")
    assert got[Key.ENGINEERING_TIME].amount == Decimal("450.00")
    assessment.refresh_from_db()
    assert assessment.total == Decimal("450.00") + 7700 + 2000 + 1200

    # Back to the pre-filled figure.
    cost_adjust(line=labour, amount="", user=world.manager)
    assessment.refresh_from_db()
    assert assessment.total == Decimal("297.92") + 7700 + 2000 + 1200
    assert labour.history.latest("history_id").history_change_reason == "back to pre-filled"


def test_a_refresh_that_finds_the_same_figures_writes_no_history(world, incident):
    assessment = cost_prefill(incident=incident, user=world.manager, now=at(200))
    before = (assessment.history.count(), CostLine.history.count())
    cost_prefill(incident=incident, user=world.manager, now=at(300))
    assert (assessment.history.count(), CostLine.history.count()) == before


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-5", "0 or more"), ("12.345", "2 decimals"), ("lots", "an amount"), (1e20, "an amount")],
)
def test_a_bad_adjustment_is_refused_naming_the_field(world, incident, amount, message):
    assessment = cost_prefill(incident=incident, user=world.manager, now=at(200))
    line = lines(assessment)[Key.INFRASTRUCTURE]
    with pytest.raises(RuleError, match=message) as refused:
        cost_adjust(line=line, amount=amount, user=world.manager)
    assert refused.value.field == "amount"
    line.refresh_from_db()
    assert line.amount is None


def test_without_rates_or_figures_nothing_is_priced_and_the_basis_says_why(world, incident):
    CostRates.objects.all().delete()
    ServiceCost.objects.all().delete()

    got = lines(cost_prefill(incident=incident, user=world.manager, now=at(200)))

    assert got[Key.ENGINEERING_TIME].prefilled is None
    assert "No cost rates in the policy" in got[Key.ENGINEERING_TIME].basis
    assert got[Key.LOST_REVENUE].prefilled is None
    assert got[Key.SLA_PENALTIES].prefilled is None
    assert CostAssessment.objects.get().total == 0


def test_an_open_incident_is_priced_so_far(world, cast):
    """Labour and revenue run to now while the incident is open."""
    ServiceCost.objects.create(service=world.service, revenue_per_minute=Decimal(2))
    made = incident_declare(
        title="Slow", severity=Severity.objects.get(key="SEV-3"), services=[world.service],
        impact_started_at=at(-30), detected_at=at(0), user=world.rob, now=at(0),
    )  # fmt: skip
    role_assign(
        incident=made,
        role=RoleAssignment.Role.SME,
        user=world.rob,
        by=world.manager,
        now=at(0),
    )

    got = lines(cost_prefill(incident=made, user=world.manager, now=at(60)))

    assert got[Key.ENGINEERING_TIME].prefilled == Decimal("100.00")  # 1 h SME × 1 × 100
    assert got[Key.LOST_REVENUE].prefilled == Decimal("180.00")  # 90 min × 2


def test_the_total_is_the_sum_of_the_lines(world, incident):
    assessment = cost_prefill(incident=incident, user=world.manager, now=at(200))
    CostLine.objects.filter(assessment=assessment, key=Key.TRAINING).update(amount=Decimal("0.08"))

    assert cost_recompute_total(assessment=assessment) == Decimal("11398.00")
    assert CostAssessment.objects.get().total == Decimal("11398.00")


def test_resolving_a_real_incident_opens_its_assessment(world, django_capture_on_commit_callbacks):
    made = incident_declare(
        title="Down", severity=Severity.objects.get(key="SEV-1"), services=[world.service],
        user=world.rob, now=at(0),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        incident_set_status(
            incident=made, status=Incident.Status.RESOLVED, user=world.rob, now=at(40)
        )

    assessment = CostAssessment.objects.get(incident=made)
    assert assessment.lines.count() == 12
    assert assessment.history.earliest("history_id").history_user is None  # the system
