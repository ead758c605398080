"""Database unavailable (or a lock not granted in time): the endpoints answer 503 with
Retry-After, never 5xx pages or 429, so Alertmanager retries and the retry dedups. The
database is really unreachable, as in tests/ircore/test_security_db_down.py."""

import copy
import json

import pytest
from django.db import connections
from django.test import Client

from .conftest import alertmanager_payload, event_payload


@pytest.fixture
def database_down(db):
    original = connections["default"]
    settings_dict = copy.deepcopy(original.settings_dict)
    if original.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-directory/for-this-test/db.sqlite3"
    else:
        settings_dict.update(HOST="127.0.0.1", PORT="1")
    broken = original.__class__(settings_dict, alias="default")
    connections["default"] = broken
    yield
    broken.close()
    connections["default"] = original


def _post(url, body, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    client = Client(raise_request_exception=False)
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def _assert_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": ["The database is unavailable; try again shortly."]}


@pytest.fixture
def tokens(alertmanager, events, generic, request):
    found = (alertmanager.token, events.token, generic.token)
    request.getfixturevalue("database_down")
    return found


def test_every_endpoint_answers_503_with_retry_after(tokens):
    am, ev, gen = tokens
    _assert_503(_post("/api/v1/alerts/alertmanager/", alertmanager_payload(), am))
    _assert_503(_post("/api/v1/alerts/events/", event_payload(ev)))
    _assert_503(_post("/v2/enqueue", event_payload(ev)))
    _assert_503(_post("/api/v1/alerts/generic/", {"title": "x"}, gen))
    _assert_503(Client(raise_request_exception=False).get(f"/api/v1/alerts/heartbeat/{gen}/"))
