"""The incident page costs the same number of queries however long the incident's story:
more affected services, roles, ticks and timeline entries add rows, not queries."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import services
from ircore.models import Service

from .conftest import at


def grow(incident, people, extra_services, notes):
    for service in extra_services:
        services.affected_service_set(
            incident=incident, service=service, status="degraded", user=people.manager, now=at(1)
        )
    for i in range(notes):
        services.note_add(incident=incident, kind="note", text=f"note {i}", user=people.manager)
    services.role_assign(
        incident=incident, role="ic", user=people.certified, by=people.manager, now=at(2)
    )
    for person in (people.uncertified, people.responder)[: 1 + (notes > 5)]:
        services.role_assign(
            incident=incident, role="sme", user=person, by=people.manager, now=at(3)
        )
    for item in incident.checklist.all()[: 1 + (notes > 5)]:
        services.checklist_tick(item=item, user=people.manager, now=at(4))


def change_page_queries(client, incident) -> int:
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    client.get(url)  # warm caches (content types, permissions) the same way for both
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_change_page_query_count_does_not_grow_with_the_incident(declare, people, catalog, client):
    more = [Service.objects.create(name=f"Extra {i}", slug=f"extra-{i}") for i in range(4)]
    small = declare("Small", services=[catalog.payments_api])
    big = declare("Big", services=[catalog.payments_api, catalog.settlement])
    grow(small, people, [], notes=1)
    grow(big, people, more, notes=40)
    client.force_login(people.manager)

    assert change_page_queries(client, small) == change_page_queries(client, big)
