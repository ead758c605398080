"""The cost assessment in the admin: a manager opens one for a resolved incident (pre-filled),
adjusts a line on its page with a reason (the pre-filled figure stays, history keeps both)
and refreshes the pre-fill; a drill's incident cannot be chosen; Leadership reads and
changes nothing; Support and outsiders see nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import RoleAssignment
from incidents.services import incident_declare, incident_set_status, role_assign
from ircore.models import Severity
from postmortems.models import CostAssessment, CostLine, CostRates, ServiceCost
from postmortems.services.cost import cost_prefill
from tests.ircore.test_admin_smoke import form_data

from .test_drill_fixtures import *  # noqa: F403  (the fixtures)
from .test_drill_fixtures import at

ADD = reverse("admin:postmortems_costassessment_add")
CHANGELIST = reverse("admin:postmortems_costassessment_changelist")


def page(assessment, name="change"):
    return reverse(f"admin:postmortems_costassessment_{name}", args=[assessment.pk])


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def resolved(world):
    """40 minutes of outage on Payments API (30 per minute); Rob SME for 40 minutes."""
    ServiceCost.objects.create(service=world.service, revenue_per_minute=Decimal(30))
    incident = incident_declare(
        title="Checkout errors",
        severity=Severity.objects.get(key="SEV-2"),
        services=[world.service],
        user=world.rob,
        now=at(0),
    )
    role_assign(
        incident=incident, role=RoleAssignment.Role.SME, user=world.rob, by=world.rob, now=at(0)
    )
    incident_set_status(incident=incident, status="resolved", user=world.rob, now=at(40))
    return incident


def test_a_manager_opens_the_assessment_of_an_incident_prefilled(client, world, resolved):
    c = login(client, world.manager)
    assert c.get(ADD).status_code == 200

    response = c.post(ADD, {"incident": resolved.pk})

    assessment = CostAssessment.objects.get(incident=resolved)
    assert response.status_code == 302
    lines = {line.key: line for line in assessment.lines.all()}
    # 40 min × 1 (SME) × 100/h; 40 min × 30/min.
    assert lines[CostLine.Key.ENGINEERING_TIME].prefilled == Decimal("66.67")
    assert lines[CostLine.Key.LOST_REVENUE].prefilled == Decimal("1200.00")
    assert assessment.total == Decimal("1266.67")
    shown = c.get(page(assessment)).content.decode()
    assert reverse("admin:incidents_incident_change", args=[resolved.pk]) in shown
    assert "Refresh pre-filled figures" in shown
    assert "Engineering time" in shown and "1200.00" in shown


def test_an_incident_has_one_assessment_and_a_drill_none(client, world, resolved):
    c = login(client, world.manager)
    c.post(ADD, {"incident": resolved.pk})
    again = c.post(ADD, {"incident": resolved.pk})
    assert again.status_code == 200
    assert "already exists" in str(again.context["adminform"].form.errors["incident"])

    drill_incident = incident_declare(
        title="Drill", severity=Severity.objects.get(key="SEV-3"), services=[world.service],
        is_drill=True, user=world.rob, now=at(0),
    )  # fmt: skip
    refused = c.post(ADD, {"incident": drill_incident.pk})
    assert refused.status_code == 200
    assert "Select a valid choice" in str(refused.context["adminform"].form.errors["incident"])
    assert CostAssessment.objects.count() == 1


def test_adjusting_a_line_on_the_page_keeps_the_prefilled_figure(client, world, resolved):
    assessment = cost_prefill(incident=resolved, user=world.manager, now=at(60))
    c = login(client, world.manager)
    shown = c.get(page(assessment))
    data = form_data(shown)
    labour = assessment.lines.get(key=CostLine.Key.ENGINEERING_TIME)
    index = next(
        i for i in range(12) if data.get(f"lines-{i}-id") == str(labour.pk)
    )  # the inline's row of the line
    data[f"lines-{index}-amount"] = "150.00"
    data[f"lines-{index}-note"] = "Ann helped off the record"
    data["notes"] = "Figures checked with finance."

    response = c.post(page(assessment), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    labour.refresh_from_db()
    assert (labour.prefilled, labour.amount, labour.note) == (
        Decimal("66.67"),
        Decimal("150.00"),
        "Ann helped off the record",
    )
    assessment.refresh_from_db()
    assert assessment.total == Decimal("1350.00")
    assert assessment.notes == "Figures checked with finance."
    latest = labour.history.latest("history_id")
    assert (latest.history_user, latest.history_change_reason) == (world.manager, "adjusted")
    # Only the changed line moved: the others have their opening and pre-fill rows only.
    assert CostLine.history.filter(history_change_reason="adjusted").count() == 1


def test_refresh_works_the_prefill_out_again(client, world, resolved):
    assessment = cost_prefill(incident=resolved, user=world.manager, now=at(60))
    CostRates.objects.update(hourly_cost=Decimal(300))
    c = login(client, world.manager)

    assert c.get(page(assessment, "prefill")).status_code == 405
    response = c.post(page(assessment, "prefill"))

    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.total == Decimal("1400.00")  # 200 labour + 1,200 revenue


def test_leadership_reads_the_assessment_and_changes_nothing(client, world, resolved):
    assessment = cost_prefill(incident=resolved, user=world.manager, now=at(60))
    c = login(client, world.leader)

    assert c.get(CHANGELIST).status_code == 200
    shown = c.get(page(assessment))
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "Refresh pre-filled figures" not in html
    assert 'name="lines-0-amount"' not in html and 'name="_save"' not in html
    assert c.get(ADD).status_code == 403
    assert c.post(page(assessment, "prefill")).status_code == 403
    assert c.post(page(assessment), {"notes": "x"}).status_code == 403
    service_cost = ServiceCost.objects.get()
    url = reverse("admin:postmortems_servicecost_change", args=[service_cost.pk])
    assert c.get(url).status_code == 200
    assert c.post(url, {"revenue_per_minute": "0"}).status_code == 403
    assessment.refresh_from_db()
    assert assessment.total == Decimal("1266.67") and assessment.notes == ""


def test_support_and_outsiders_see_no_costs(client, world, resolved):
    assessment = cost_prefill(incident=resolved, user=world.manager, now=at(60))
    assert login(client, world.support).get(page(assessment)).status_code == 403
    assert client.get(CHANGELIST).status_code == 403
    response = login(client, world.outsider).get(page(assessment))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_the_rates_page_edits_each_role_weight(client, world):
    rates = CostRates.objects.get()
    url = reverse("admin:postmortems_costrates_change", args=[rates.pk])
    c = login(client, world.manager)
    data = form_data(c.get(url))
    assert data["weight_ic"] == "1.50"
    data.update({"weight_ic": "2", "hourly_cost": "120"})

    assert c.post(url, data).status_code == 302

    rates.refresh_from_db()
    assert rates.weight_of("ic") == Decimal(2) and rates.hourly_cost == Decimal(120)
    assert rates.weight_of("tech_lead") == Decimal("1.25")
    assert rates.history.latest("history_id").history_user == world.manager


def test_the_assessment_list_costs_the_same_queries_at_any_size(client, world):
    severity = Severity.objects.get(key="SEV-4")
    c = login(client, world.leader)

    def queries_with(n: int) -> int:
        for k in range(n - CostAssessment.objects.count()):
            made = incident_declare(
                title=f"Blip {k}", severity=severity, services=[world.service], user=world.rob,
                now=at(k),
            )  # fmt: skip
            cost_prefill(incident=made, user=world.manager, now=at(k) + timedelta(minutes=5))
        c.get(CHANGELIST)  # warm the session and permission caches
        with CaptureQueriesContext(connection) as queries:
            assert c.get(CHANGELIST).status_code == 200
        return len(queries)

    assert queries_with(2) == queries_with(8)
