"""Each bad input is refused with its code, names the field, and writes nothing: 401 for a
missing or wrong token, 403 for a disabled integration (or another kind's), 400 for
malformed JSON or a missing field, 413 for a body over 512 KB. These endpoints are not
subject to CSRF or the API's throttles."""

import json

import pytest

from incidents.alerts.models import Alert
from incidents.models import Incident, TimelineEntry

from .conftest import alertmanager_payload, event_payload

AM = "/api/v1/alerts/alertmanager/"
EVENTS = "/api/v1/alerts/events/"
GENERIC = "/api/v1/alerts/generic/"


@pytest.fixture
def nothing_written(db):
    """Counts rows before and after: a refusal must leave them as they were."""

    def counts():
        return (Alert.objects.count(), Incident.objects.count(), TimelineEntry.objects.count())

    before = counts()
    yield
    assert counts() == before


@pytest.mark.usefixtures("nothing_written")
class TestAlertmanagerRefusals:
    def test_missing_token_is_401(self, post, alertmanager):
        response = post(AM, alertmanager_payload())
        assert response.status_code == 401
        assert response.json() == {"token": ["Give the integration's token."]}

    def test_wrong_token_is_401(self, post, alertmanager):
        response = post(AM, alertmanager_payload(), "not-the-token")
        assert response.status_code == 401 and response.json() == {"token": ["Unknown token."]}

    def test_other_scheme_is_401(self, client, alertmanager):
        response = client.post(
            AM,
            json.dumps(alertmanager_payload()),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {alertmanager.token}",
        )
        assert response.status_code == 401

    def test_disabled_integration_is_403(self, post, alertmanager):
        alertmanager.integration.enabled = False
        alertmanager.integration.save()
        response = post(AM, alertmanager_payload(), alertmanager.token)
        assert response.status_code == 403
        assert "disabled" in response.json()["integration"][0]

    def test_another_kinds_token_is_403(self, post, generic):
        response = post(AM, alertmanager_payload(), generic.token)
        assert response.status_code == 403

    def test_malformed_json_is_400(self, post, alertmanager):
        response = post(AM, b'{"alerts": [', alertmanager.token)
        assert response.status_code == 400
        assert response.json()["body"][0].startswith("Malformed JSON")

    def test_missing_alerts_is_400_naming_it(self, post, alertmanager):
        body = alertmanager_payload()
        del body["alerts"]
        response = post(AM, body, alertmanager.token)
        assert response.status_code == 400 and response.json() == {
            "alerts": ["This field is required."]
        }

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"labels": {}}, "alerts[1].labels"),
            ({"labels": "x"}, "alerts[1].labels"),
            ({"status": "burning"}, "alerts[1].status"),
            ({"startsAt": "yesterday"}, "alerts[1].startsAt"),
            ({"fingerprint": 12}, "alerts[1].fingerprint"),
            ({"annotations": []}, "alerts[1].annotations"),
        ],
    )
    def test_a_bad_alert_in_a_batch_refuses_the_batch(self, post, alertmanager, change, field):
        response = post(AM, alertmanager_payload({}, change), alertmanager.token)
        assert response.status_code == 400
        assert list(response.json()) == [field]

    def test_an_oversized_body_is_413(self, post, alertmanager):
        body = alertmanager_payload({"annotations": {"description": "x" * (600 * 1024)}})
        response = post(AM, body, alertmanager.token)
        assert response.status_code == 413

    def test_the_read_itself_is_capped_whatever_content_length_says(self, rf, alertmanager):
        from incidents.alerts import api

        data = b"[" + b" " * (600 * 1024) + b"]"
        request = rf.post(AM, data=data, content_type="application/json")
        request.META["HTTP_AUTHORIZATION"] = f"Bearer {alertmanager.token}"
        request.META["CONTENT_LENGTH"] = "100"  # the header lies; the stream is longer
        response = api.alertmanager(request)
        assert response.status_code == 413 and list(json.loads(response.content)) == ["body"]

    def test_get_is_405(self, client, alertmanager):
        assert client.get(AM).status_code == 405


@pytest.mark.usefixtures("nothing_written")
class TestEventsRefusals:
    def test_invalid_event_answers_pagerdutys_error_shape(self, post, events):
        body = event_payload(events.token)
        del body["payload"]["summary"]
        response = post(EVENTS, body)
        assert response.status_code == 400
        assert response.json() == {
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["payload.summary: This field is required."],
        }

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"event_action": "explode"}, "event_action"),
            ({"payload": None}, "payload"),
            ({"links": "x"}, "links"),
            ({"dedup_key": "k" * 256}, "dedup_key"),
        ],
    )
    def test_each_bad_field_is_named(self, post, events, change, field):
        response = post(EVENTS, event_payload(events.token, **change))
        assert response.status_code == 400
        assert response.json()["errors"][0].startswith(f"{field}:")

    def test_bad_severity(self, post, events):
        body = event_payload(events.token)
        body["payload"]["severity"] = "apocalyptic"
        response = post(EVENTS, body)
        assert response.json()["errors"] == [
            "payload.severity: Must be one of critical, error, warning, info."
        ]

    def test_resolve_needs_a_dedup_key(self, post, events):
        response = post(EVENTS, {"routing_key": events.token, "event_action": "resolve"})
        assert response.status_code == 400

    def test_wrong_routing_key_is_401(self, post, events):
        response = post(EVENTS, event_payload("wrong"))
        assert response.status_code == 401
        assert response.json()["errors"] == ["token: Unknown token."]

    def test_disabled_is_403(self, post, events):
        events.integration.enabled = False
        events.integration.save()
        assert post("/v2/enqueue", event_payload(events.token)).status_code == 403

    def test_malformed_json_is_400(self, post, events):
        response = post("/v2/enqueue", b"not json")
        assert response.status_code == 400 and response.json()["status"] == "invalid event"

    def test_oversized_is_413(self, post, events):
        body = event_payload(events.token)
        body["payload"]["custom_details"] = {"blob": "x" * (513 * 1024)}
        assert post(EVENTS, body).status_code == 413


@pytest.mark.usefixtures("nothing_written")
def test_generic_needs_a_title(post, generic):
    response = post(GENERIC, {"dedup_key": "x"}, generic.token)
    assert response.status_code == 400 and response.json() == {"title": ["This field is required."]}


@pytest.mark.usefixtures("nothing_written")
def test_generic_batch_names_the_item(post, generic):
    response = post(
        GENERIC, [{"title": "ok"}, {"title": "x", "labels": {"a": {"b": 1}}}], generic.token
    )
    assert response.status_code == 400 and list(response.json()) == ["[1].labels.a"]


def test_csrf_is_not_required(alertmanager, client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        AM,
        json.dumps(alertmanager_payload()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {alertmanager.token}",
    )
    assert response.status_code == 200


def test_the_api_throttles_do_not_apply(post, alertmanager, settings):
    """A burst far over the API's per-address rate is still taken (no 429, ever)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "2/min"},
    }
    codes = {post(AM, alertmanager_payload(), alertmanager.token).status_code for _ in range(5)}
    assert codes == {200}
