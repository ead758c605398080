"""A listener upstairs that fails after commit must not turn a committed declaration into an
error: the client would retry and declare the same incident twice."""

import pytest
from rest_framework.test import APIClient

from incidents import signals
from incidents.models import Incident
from ircore import roles
from ircore.models import Service, Severity


@pytest.mark.django_db(transaction=True)
def test_failing_listener_does_not_fail_the_committed_declaration(make_user):
    Severity.objects.create(key="SEV-2", rank=2, name="Major")
    Service.objects.create(name="Database", slug="database")
    rob = make_user("rob", roles.RESPONDERS)

    def page_oncall(sender, incident, **kwargs):  # e.g. enqueuing a page while Redis is down
        raise ConnectionError("broker unreachable")

    signals.incident_declared.connect(page_oncall, weak=False)
    try:
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(rob)
        response = client.post(
            "/api/v1/incidents/",
            {"title": "db down", "severity": "SEV-2", "services": ["database"]},
            format="json",
        )
    finally:
        signals.incident_declared.disconnect(page_oncall)

    assert response.status_code == 201
    assert Incident.objects.count() == 1
