"""The endpoints through a real WSGI server (pytest-django's live_server) with urllib, as a
monitor reaches them: Alertmanager declares, dedups and resolves; PagerDuty's /v2/enqueue
answers 202 and acknowledges; a heartbeat ping by plain GET; refusals keep their codes."""

import json
import urllib.error
import urllib.request

import pytest

from incidents.alerts.models import Alert
from incidents.models import Incident

from .conftest import alertmanager_payload, am_alert, event_payload


def send(url: str, body=None, token: str | None = None, method: str = "POST"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


@pytest.fixture
def live(live_server, transactional_db):
    return live_server.url


def test_alertmanager_over_a_real_server(live, alertmanager):
    url = f"{live}/api/v1/alerts/alertmanager/"

    first = send(url, alertmanager_payload(am_alert(1)), alertmanager.token)
    again = send(url, alertmanager_payload(am_alert(1)), alertmanager.token)
    joined = send(url, alertmanager_payload(am_alert(2)), alertmanager.token)

    assert first[0] == again[0] == joined[0] == 200
    assert first[2] == again[2] == {"status": "success", "alerts": 1}
    assert "no-store" in first[1]["Cache-Control"]
    assert Incident.objects.count() == 1 and Alert.objects.count() == 2

    resolved = send(url, alertmanager_payload(am_alert(1, status="resolved")), alertmanager.token)
    assert resolved[0] == 200
    assert Alert.objects.get(dedup_key="fp-payments-000001").status == "resolved"


def test_events_at_v2_enqueue_over_a_real_server(live, events):
    url = f"{live}/v2/enqueue"

    status, _, body = send(url, event_payload(events.token))
    assert (status, body) == (
        202,
        {"status": "success", "message": "Event processed", "dedup_key": "samplekeyhere"},
    )
    status, _, _ = send(url, event_payload(events.token, event_action="acknowledge"))
    assert status == 202
    assert Incident.objects.get().acknowledged_at is not None


def test_refusals_over_a_real_server(live, alertmanager, events):
    am = f"{live}/api/v1/alerts/alertmanager/"
    assert send(am, alertmanager_payload())[0] == 401
    assert send(am, b"{nope", alertmanager.token)[0] == 400
    assert send(am, b"x" * (513 * 1024), alertmanager.token)[0] == 413
    status, _, body = send(f"{live}/v2/enqueue", {"routing_key": events.token})
    assert status == 400 and body["status"] == "invalid event"
    assert not Alert.objects.exists()


def test_heartbeat_by_plain_get(live, generic):
    status, _, body = send(f"{live}/api/v1/alerts/heartbeat/{generic.token}/", method="GET")

    assert (status, body) == (200, {"status": "success"})
    generic.integration.refresh_from_db()
    assert generic.integration.last_ping_at is not None
