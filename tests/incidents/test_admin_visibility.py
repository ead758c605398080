"""The incident page shows each viewer only what they may read elsewhere: Support sees the
incident, not who runs it, its checklist or the runbooks (as in the API)."""

from django.urls import reverse

from incidents import services
from incidents.models import Runbook
from ircore import roles

from .conftest import at


def page_for(client, user, incident):
    client.force_login(user)
    response = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_support_does_not_see_roles_checklist_or_runbooks(
    declare, people, catalog, make_user, client
):
    runbook = Runbook.objects.create(title="DB failover", slug="db", body="vault path SECRET-42")
    runbook.services.add(catalog.payments_api)
    incident = declare(services=[catalog.payments_api])
    services.role_assign(
        incident=incident, role="ic", user=people.certified, by=people.manager, now=at(1)
    )

    support_agent = make_user("sue", roles.SUPPORT)
    leader = make_user("leo", roles.LEADERSHIP)

    support = page_for(client, support_agent, incident)
    assert incident.reference in support
    assert "SECRET-42" not in support
    assert "Cora" not in support
    assert "ir-checklist-count" not in support
    listing = client.get(reverse("admin:incidents_incident_changelist")).content.decode()
    assert "cora" not in listing and incident.reference in listing

    seen = page_for(client, leader, incident)
    assert "SECRET-42" in seen and "Cora" in seen and "ir-checklist-count" in seen


def test_api_list_leaves_out_the_ic_for_support(declare, people, make_user, client):
    incident = declare()
    services.role_assign(
        incident=incident, role="ic", user=people.certified, by=people.manager, now=at(1)
    )
    client.force_login(make_user("sue", roles.SUPPORT))
    row = client.get("/api/v1/incidents/").json()["results"][0]
    assert row["reference"] == incident.reference and "incident_commander" not in row

    client.force_login(people.responder)
    row = client.get("/api/v1/incidents/").json()["results"][0]
    assert row["incident_commander"] == "cora"
