"""Severity-dependent roles: an open incident without its IC, or without the Executive
Sponsor its severity's policy asks for, says so in the API and on the incident page."""

from django.urls import reverse

from incidents import services
from incidents.models import RoleAssignment
from incidents.selectors import missing_roles

from .conftest import at

Role = RoleAssignment.Role


def current(incident):
    return list(incident.roles.all())


def test_ic_is_always_required_and_sponsor_only_where_policy_says(declare, severities, people):
    severities.sev1.executive_sponsor_required = True
    severities.sev1.save()
    sev2 = declare("Checkout slow", severity=severities.sev2)
    sev1 = declare("Everything down", severity=severities.sev1)

    assert missing_roles(sev2, current(sev2)) == [Role.INCIDENT_COMMANDER]
    assert missing_roles(sev1, current(sev1)) == [
        Role.INCIDENT_COMMANDER,
        Role.EXECUTIVE_SPONSOR,
    ]

    services.role_assign(
        incident=sev1,
        role=Role.INCIDENT_COMMANDER,
        user=people.certified,
        by=people.manager,
        now=at(1),
    )
    services.role_assign(
        incident=sev1,
        role=Role.EXECUTIVE_SPONSOR,
        user=people.manager,
        by=people.manager,
        now=at(2),
    )
    assert missing_roles(sev1, current(sev1)) == []


def test_raising_severity_makes_the_sponsor_required(declare, severities, people):
    severities.sev1.executive_sponsor_required = True
    severities.sev1.save()
    incident = declare(severity=severities.sev2)
    services.role_assign(
        incident=incident,
        role=Role.INCIDENT_COMMANDER,
        user=people.certified,
        by=people.manager,
        now=at(1),
    )
    assert missing_roles(incident, current(incident)) == []

    services.incident_change_severity(
        incident=incident,
        severity=severities.sev1,
        reason="All regions",
        user=people.manager,
        now=at(2),
    )
    assert missing_roles(incident, current(incident)) == [Role.EXECUTIVE_SPONSOR]


def test_a_resolved_incident_needs_no_one(declare, people):
    incident = declare()
    services.incident_set_status(
        incident=incident, status="resolved", user=people.manager, now=at(3)
    )
    assert missing_roles(incident, current(incident)) == []


def test_api_detail_and_admin_page_call_out_the_missing_sponsor(
    declare, severities, people, client
):
    severities.sev1.executive_sponsor_required = True
    severities.sev1.save()
    incident = declare(severity=severities.sev1)
    client.force_login(people.manager)

    detail = client.get(f"/api/v1/incidents/{incident.reference}/").json()
    assert detail["missing_roles"] == ["ic", "exec_sponsor"]

    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert page.status_code == 200
    assert "nobody yet; SEV-1 requires one" in page.content.decode()

    services.role_assign(
        incident=incident,
        role=Role.EXECUTIVE_SPONSOR,
        user=people.manager,
        by=people.manager,
        now=at(1),
    )
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert "SEV-1 requires one" not in page.content.decode()
    assert client.get(f"/api/v1/incidents/{incident.reference}/").json()["missing_roles"] == ["ic"]
