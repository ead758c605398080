"""The read-only policy and catalog API: severities, incident types, services, teams."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ircore.models import ChecklistTemplateItem, IncidentType, Service, Severity, Team

API = "/api/v1/"


@pytest.fixture
def policy(db, cast):
    sev1 = Severity.objects.create(
        key="SEV-1",
        rank=1,
        name="Critical",
        examples="Checkout down\n\nData breach\n",
        ack_target=timedelta(minutes=5),
        postmortem_required=True,
        postmortem_due=timedelta(days=5),
    )
    sev2 = Severity.objects.create(key="SEV-2", rank=2, name="High")
    # Created out of order: the API lists them by position.
    ChecklistTemplateItem.objects.create(severity=sev1, position=2, text="Page executives")
    ChecklistTemplateItem.objects.create(severity=sev1, position=1, text="Open the channel")
    security = IncidentType.objects.create(
        key="security",
        name="Security",
        regulatory_notification_hours=72,
        security_checkpoints=True,
    )
    payments = Team.objects.create(name="Payments", slug="payments", lead=cast.manager)
    payments.members.add(cast.responder, cast.manager)
    platform = Team.objects.create(name="Platform", slug="platform")
    api = Service.objects.create(name="Payments API", slug="payments-api", team=payments, tier=1)
    hooks = Service.objects.create(name="Webhooks", slug="webhooks", team=platform, public=True)
    return sev1, sev2, security, payments, platform, api, hooks


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def test_severities_are_listed_by_rank_with_targets_and_checklist(policy, cast):
    response = client_for(cast.responder).get(API + "severities/")
    assert response.status_code == 200
    rows = response.data["results"]
    assert [row["key"] for row in rows] == ["SEV-1", "SEV-2"]
    sev1 = rows[0]
    assert sev1["checklist"] == ["Open the channel", "Page executives"]
    assert sev1["examples"] == ["Checkout down", "Data breach"]
    assert sev1["ack_target"] == "00:05:00"
    assert sev1["postmortem_required"] is True


def test_lookups_are_by_key_and_slug(policy, cast):
    client = client_for(cast.leader)
    assert client.get(API + "severities/SEV-2/").data["name"] == "High"
    kind = client.get(API + "incident-types/security/").data
    assert kind == {
        "key": "security",
        "name": "Security",
        "description": "",
        "regulatory_notification_hours": 72,
        "security_checkpoints": True,
    }
    service = client.get(API + "services/payments-api/").data
    assert (service["team"], service["tier"], service["tier_display"]) == (
        "payments",
        1,
        "Tier 1 (critical)",
    )
    team = client.get(API + "teams/payments/").data
    assert team["lead"] == "mia"
    assert team["members"] == ["mia", "rob"]
    assert team["services"] == ["payments-api"]
    for path in ("severities/SEV-9/", "incident-types/nope/", "services/nope/", "teams/nope/"):
        assert client.get(API + path).status_code == 404


def test_services_filter_by_team_and_public(policy, cast):
    client = client_for(cast.responder)

    def slugs(query):
        response = client.get(API + "services/?" + query)
        assert response.status_code == 200
        return [row["slug"] for row in response.data["results"]]

    assert slugs("team=payments") == ["payments-api"]
    assert slugs("public=true") == ["webhooks"]
    assert slugs("tier=1") == ["payments-api"]
    bad = client.get(API + "services/?team=nope")
    assert bad.status_code == 400
    assert "team" in bad.data


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("manager", {"severities", "incident-types", "services", "teams"}),
        ("responder", {"severities", "incident-types", "services", "teams"}),
        ("leader", {"severities", "incident-types", "services", "teams"}),
        # Support reads only what it needs to write notices about the right services.
        ("support", {"severities", "services"}),
        ("outsider", set()),
    ],
)
def test_reads_follow_the_role_grants(policy, cast, who, allowed):
    client = client_for(getattr(cast, who))
    details = {
        "severities": "SEV-1",
        "incident-types": "security",
        "services": "payments-api",
        "teams": "payments",
    }
    for resource, key in details.items():
        expected = 200 if resource in allowed else 403
        assert client.get(f"{API}{resource}/").status_code == expected, resource
        assert client.get(f"{API}{resource}/{key}/").status_code == expected, resource


def test_anonymous_gets_401(policy):
    for resource in ("severities", "incident-types", "services", "teams"):
        response = APIClient().get(f"{API}{resource}/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_policy_is_read_only_here(policy, cast):
    before = list(Severity.objects.values())
    manager = client_for(cast.manager)
    assert manager.post(API + "severities/", {"key": "SEV-0", "rank": 0}).status_code == 405
    assert manager.patch(API + "severities/SEV-1/", {"name": "x"}).status_code == 405
    assert manager.delete(API + "services/webhooks/").status_code == 405
    # Without the model's add permission the refusal comes first.
    assert client_for(cast.support).post(API + "services/", {}).status_code == 403
    assert list(Severity.objects.values()) == before
    assert Service.objects.filter(slug="webhooks").exists()


def test_catalog_lists_cost_the_same_queries_at_any_size(policy, cast, django_user_model):
    client = client_for(cast.responder)

    def queries(resource):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{API}{resource}/").status_code == 200
        return len(captured.captured_queries)

    small = {resource: queries(resource) for resource in ("severities", "teams", "services")}
    for n in range(20):
        severity = Severity.objects.create(key=f"P{n}", rank=10 + n, name=f"P{n}")
        ChecklistTemplateItem.objects.create(severity=severity, text=f"Step {n}")
        team = Team.objects.create(name=f"Team {n}", slug=f"team-{n}", lead=cast.leader)
        team.members.add(django_user_model.objects.create(username=f"member{n}"))
        Service.objects.create(name=f"Service {n}", slug=f"service-{n}", team=team)
    assert {resource: queries(resource) for resource in small} == small
