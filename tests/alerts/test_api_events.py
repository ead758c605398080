"""PagerDuty Events API v2 at /api/v1/alerts/events/ and at /v2/enqueue: PagerDuty's answer
shapes, deduplication on dedup_key, acknowledge through the lifecycle verb, resolve."""

import pytest

from incidents import signals
from incidents.alerts.models import Alert
from incidents.models import Incident

from .conftest import event_payload

URLS = ["/api/v1/alerts/events/", "/v2/enqueue"]


@pytest.mark.parametrize("url", URLS)
def test_trigger_answers_202_like_pagerduty_and_declares(url, post, events, severities):
    response = post(url, event_payload(events.token))

    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "samplekeyhere",
    }
    incident = Incident.objects.get()
    assert incident.title == "DISK at 99% on machine prod-datapipe03.example.com"
    assert incident.severity == severities.sev1  # payload.severity critical -> SEV-1
    assert incident.impact_started_at.isoformat() == "2025-03-14T08:42:58.315000+00:00"
    alert = Alert.objects.get()
    assert alert.labels["source"] == "prod-datapipe03.example.com"
    assert alert.links == [
        {"href": "https://example.com/", "text": "Link text"},
        {"href": "https://monitoring.example.com", "text": "Sample Monitoring Service"},
    ]
    assert alert.raw["images"][0]["alt"] == "Example text"  # kept as received
    assert alert.raw["payload"]["custom_details"]["load avg"] == 0.75
    assert "routing_key" not in alert.raw  # the secret is not kept where the admin shows it
    assert events.token not in str(Alert.objects.values().get())


def test_events_route_on_custom_details(post, events, catalog):
    body = event_payload(events.token)
    body["payload"]["custom_details"]["service"] = "search"

    post(URLS[0], body)

    assert Incident.objects.get().services.get() == catalog.search


def test_a_retried_trigger_dedups_and_answers_the_same(post, events):
    first = post(URLS[0], event_payload(events.token))
    again = post(URLS[1], event_payload(events.token))

    assert again.status_code == 202 and again.json() == first.json()
    assert Alert.objects.get().repeat_count == 1
    assert Incident.objects.count() == 1


def test_a_trigger_without_dedup_key_gets_a_stable_one(post, events):
    body = event_payload(events.token)
    del body["dedup_key"]

    first = post(URLS[0], body).json()["dedup_key"]
    second = post(URLS[0], body).json()["dedup_key"]

    assert first == second and first.startswith("event:")
    assert Alert.objects.count() == 1


def test_the_routing_key_may_come_as_a_bearer_token(post, events):
    body = event_payload("")
    del body["routing_key"]

    assert post(URLS[0], body, events.token).status_code == 202


def test_acknowledge_acknowledges_the_incident_through_the_verb(
    post, events, django_capture_on_commit_callbacks
):
    post(URLS[0], event_payload(events.token))
    heard = []

    def listener(sender, incident, user, **kwargs):
        heard.append((incident.pk, user))

    signals.incident_acknowledged.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ack = post(URLS[0], event_payload(events.token, event_action="acknowledge"))
            again = post(URLS[0], event_payload(events.token, event_action="acknowledge"))
    finally:
        signals.incident_acknowledged.disconnect(listener)

    assert ack.status_code == again.status_code == 202
    assert again.json() == ack.json()
    incident = Incident.objects.get()
    assert incident.acknowledged_at is not None
    assert heard == [(incident.pk, None)]  # the signal the on-call engine listens to, once
    assert incident.timeline.filter(kind="ack").count() == 1
    assert Alert.objects.get().acknowledged_at is not None


def test_resolve_records_and_says_all_resolved(post, events):
    post(URLS[0], event_payload(events.token))

    response = post(
        URLS[0],
        {"routing_key": events.token, "event_action": "resolve", "dedup_key": "samplekeyhere"},
    )

    assert response.status_code == 202 and response.json()["dedup_key"] == "samplekeyhere"
    assert Alert.objects.get().status == "resolved"
    assert Incident.objects.get().timeline.filter(data__action="all_resolved").count() == 1


def test_a_resolve_of_an_unknown_key_stores_nothing(post, events):
    response = post(
        URLS[0], {"routing_key": events.token, "event_action": "resolve", "dedup_key": "nope"}
    )

    assert response.status_code == 202
    assert not Alert.objects.exists()
