"""What each role group can and cannot do: in the admin (real pages, real POSTs) and as
``user.has_perm`` for the ircore and incidents models. The expectations are written out
here, not derived from ``role_grants``, so a grant changed by mistake fails a test."""

import pytest
from django.urls import reverse

from ircore import policy
from ircore.models import FinancialThreshold, Profile, Service, Severity, Team
from tests.ircore.test_admin_smoke import POLICY, form_data, url

CAST = ("manager", "responder", "support", "leader", "outsider")


@pytest.fixture
def world(cast):
    policy.import_policy(policy.load_policy_file(POLICY))
    team = Team.objects.create(name="Payments", slug="payments")
    Service.objects.create(name="Card API", slug="card-api", team=team)
    return cast


def login(client, user):
    client.force_login(user)
    return client


# --- Admin pages ---


def test_manager_changes_a_severity_in_the_admin(client, world, admin_client):
    sev = Severity.objects.get(key="SEV-2")
    data = form_data(admin_client.get(url(Severity, "change", sev.pk)))
    login(client, world.manager)

    assert client.get(url(Severity, "add")).status_code == 200
    response = client.post(url(Severity, "change", sev.pk), {**data, "name": "Major"})

    assert response.status_code == 302
    sev.refresh_from_db()
    assert sev.name == "Major"
    assert sev.history.latest().history_user == world.manager


def test_responder_views_severities_but_cannot_change_them(client, world):
    sev = Severity.objects.get(key="SEV-2")
    login(client, world.responder)

    assert client.get(url(Severity, "changelist")).status_code == 200
    page = client.get(url(Severity, "change", sev.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False  # rendered read-only
    assert client.post(url(Severity, "change", sev.pk), {"name": "Nope"}).status_code == 403
    assert client.get(url(Severity, "add")).status_code == 403
    assert client.post(url(Severity, "delete", sev.pk), {"post": "yes"}).status_code == 403
    sev.refresh_from_db()
    assert sev.name == "High"


def test_support_sees_services_and_severities_and_nothing_else_of_ircore(client, world):
    service = Service.objects.get()
    sev = Severity.objects.get(key="SEV-1")
    login(client, world.support)

    assert client.get(url(Service, "changelist")).status_code == 200
    assert client.get(url(Service, "change", service.pk)).status_code == 200
    assert client.post(url(Service, "change", service.pk), {"name": "x"}).status_code == 403
    # Severities are readable (notices name them) but not editable.
    assert client.get(url(Severity, "change", sev.pk)).status_code == 200
    assert client.post(url(Severity, "change", sev.pk), {"name": "x"}).status_code == 403
    for model in (Team, Profile, FinancialThreshold):
        assert client.get(url(model, "changelist")).status_code == 403, model


def test_leadership_reads_everything_and_changes_nothing(client, world):
    sev = Severity.objects.get(key="SEV-1")
    team = Team.objects.get()
    login(client, world.leader)

    for model in (Severity, Team, Service, Profile, FinancialThreshold):
        assert client.get(url(model, "changelist")).status_code == 200, model
        assert client.get(url(model, "add")).status_code == 403, model
    assert client.get(url(Severity, "change", sev.pk)).status_code == 200
    assert client.post(url(Severity, "change", sev.pk), {"name": "x"}).status_code == 403
    assert client.post(url(Team, "change", team.pk), {"name": "x"}).status_code == 403


def test_outsider_is_sent_to_the_login_page(client, world):
    login(client, world.outsider)
    for target in (reverse("admin:index"), url(Severity, "changelist"), url(Service, "add")):
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_nobody_but_a_superuser_manages_user_accounts(client, world):
    for who in ("manager", "responder", "support", "leader"):
        login(client, getattr(world, who))
        assert client.get(reverse("admin:auth_user_changelist")).status_code == 403, who


def test_team_editors_can_search_users_for_lead_but_not_browse_accounts(client, world):
    picker = {"app_label": "ircore", "model_name": "team", "field_name": "lead", "term": "ro"}
    autocomplete = reverse("admin:autocomplete")

    login(client, world.manager)
    response = client.get(autocomplete, picker)
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["rob"]
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    user_page = reverse("admin:auth_user_change", args=[world.responder.pk])
    assert client.get(user_page).status_code == 403

    # Responders only view teams, so they pick no lead.
    login(client, world.responder)
    assert client.get(autocomplete, picker).status_code == 403


# --- Permissions, one row per permission: who holds it ---

ALL_FOUR = {"manager", "responder", "support", "leader"}
READERS = {"manager", "responder", "leader"}
WORKERS = {"manager", "responder"}
MANAGER = {"manager"}
NOBODY: set[str] = set()

PERMISSION_TABLE = [
    # Policy: managers edit it; responders and leadership read it; support reads severities.
    ("ircore.view_severity", ALL_FOUR),
    ("ircore.add_severity", MANAGER),
    ("ircore.change_severity", MANAGER),
    ("ircore.delete_severity", MANAGER),
    ("ircore.view_checklisttemplateitem", READERS),
    ("ircore.change_checklisttemplateitem", MANAGER),
    ("ircore.view_incidenttype", READERS),
    ("ircore.change_incidenttype", MANAGER),
    ("ircore.view_financialthreshold", READERS),
    ("ircore.change_financialthreshold", MANAGER),
    ("ircore.import_policy", MANAGER),
    # Catalog and people.
    ("ircore.view_service", ALL_FOUR),
    ("ircore.add_service", MANAGER),
    ("ircore.change_service", MANAGER),
    ("ircore.view_team", READERS),
    ("ircore.change_team", MANAGER),
    ("ircore.view_profile", READERS),
    ("ircore.change_profile", MANAGER),
    # Webhook URLs are credentials: managers only.
    ("ircore.view_notificationendpoint", MANAGER),
    ("ircore.change_notificationendpoint", MANAGER),
    # Machine-written logs: read, never written by hand.
    ("ircore.view_delivery", READERS),
    ("ircore.change_delivery", NOBODY),
    ("ircore.delete_delivery", NOBODY),
    ("ircore.view_heartbeat", MANAGER),
    ("ircore.change_heartbeat", NOBODY),
    # Incidents: responders work them; support and leadership only read.
    ("incidents.view_incident", ALL_FOUR),
    ("incidents.add_incident", WORKERS),
    ("incidents.change_incident", WORKERS),
    ("incidents.delete_incident", MANAGER),
    ("incidents.override_ic_certification", MANAGER),
    ("incidents.view_incidentservice", ALL_FOUR),
    ("incidents.add_incidentservice", WORKERS),
    ("incidents.delete_incidentservice", WORKERS),
    ("incidents.add_roleassignment", WORKERS),
    ("incidents.delete_roleassignment", MANAGER),
    ("incidents.view_roleassignment", READERS),
    ("incidents.change_checklistitem", WORKERS),
    ("incidents.add_checklistitem", MANAGER),
    ("incidents.delete_checklistitem", MANAGER),
    ("incidents.add_timelineentry", WORKERS),
    ("incidents.change_timelineentry", MANAGER),
    ("incidents.delete_timelineentry", MANAGER),
    ("incidents.view_timelineentry", READERS),
    ("incidents.add_runbook", WORKERS),
    ("incidents.delete_runbook", MANAGER),
    ("incidents.view_runbook", READERS),
    ("incidents.view_thresholdcrossing", READERS),
    ("incidents.add_thresholdcrossing", NOBODY),
    ("incidents.change_thresholdcrossing", NOBODY),
    # Accounts and groups are for superusers only.
    ("auth.view_user", NOBODY),
    ("auth.change_user", NOBODY),
    ("auth.change_group", NOBODY),
]


@pytest.mark.parametrize(
    ("perm", "holders"), PERMISSION_TABLE, ids=[p for p, _ in PERMISSION_TABLE]
)
def test_who_holds_each_permission(cast, perm, holders):
    held = {who for who in CAST if getattr(cast, who).has_perm(perm)}
    assert held == holders


@pytest.mark.parametrize("app_label", ["ircore", "incidents"])
def test_support_and_leadership_hold_only_view_permissions(cast, app_label):
    for who in ("support", "leader"):
        perms = {p for p in getattr(cast, who).get_all_permissions() if p.startswith(app_label)}
        assert perms, who
        assert all(p.split(".")[1].startswith("view_") for p in perms), (who, perms)


def test_outsider_holds_no_permission(cast):
    assert cast.outsider.get_all_permissions() == set()
