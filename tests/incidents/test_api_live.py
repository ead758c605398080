"""The API through a real WSGI server (pytest-django's live_server, wsgiref underneath), not
only the test client: servers are stricter about responses than the client is, e.g. header
values must be exact ``str``."""

import json
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

from incidents.models import Incident
from ircore.models import Service, Severity


@pytest.fixture
def token(make_user, transactional_db):
    from ircore import roles

    user = make_user("raj", roles.RESPONDERS)
    return Token.objects.create(user=user).key


def test_declare_over_a_real_server_answers_201_with_location(live_server, token):
    Severity.objects.create(key="SEV-2", rank=2, name="High")
    Service.objects.create(name="Settlement", slug="settlement")
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/incidents/",
        data=json.dumps(
            {"title": "Settlement batch stuck", "severity": "SEV-2", "services": ["settlement"]}
        ).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
        assert response.status == 201
        location = response.headers["Location"]

    incident = Incident.objects.get()
    assert body["reference"] == incident.reference
    assert location.endswith(f"/api/v1/incidents/{incident.reference}/")
