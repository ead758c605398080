"""Alertmanager through the test client: the first alert declares, a repeat deduplicates,
a new alert of the same service joins, resolves are recorded and the last one says so."""

import pytest

from incidents.alerts.models import Alert
from incidents.models import Incident, TimelineEntry

from .conftest import alertmanager_payload, am_alert

URL = "/api/v1/alerts/alertmanager/"


@pytest.fixture
def fire(post, alertmanager):
    def send(*alerts, status="firing"):
        return post(URL, alertmanager_payload(*alerts, status=status), alertmanager.token)

    return send


def test_first_alert_declares_an_incident_like_a_person(fire, alertmanager, catalog, severities):
    response = fire()

    assert response.status_code == 200
    assert response.json() == {"status": "success", "alerts": 1}
    alert = Alert.objects.get()
    incident = Incident.objects.get()
    assert alert.incident == incident and alert.status == "firing"
    assert incident.title == "BlackBox Probe Failure: https://pay.example.org"
    assert incident.severity == severities.sev1  # severity=critical routes to SEV-1
    assert list(incident.services.all()) == [catalog.payments]  # service=payments
    assert incident.impact_started_at.isoformat() == "2025-03-14T08:55:45.828000+00:00"
    assert incident.detected_at == alert.received_at == incident.declared_at
    assert incident.summary.startswith("Instance https://pay.example.org has been down")
    kinds = list(incident.timeline.values_list("kind", "text"))
    assert kinds[0][0] == TimelineEntry.Kind.DECLARED
    declared_from = incident.timeline.get(kind=TimelineEntry.Kind.ALERT)
    assert declared_from.text == (
        "Declared from alert BlackBox Probe Failure: https://pay.example.org "
        f"by integration {alertmanager.integration.name}"
    )
    # The incident has no links field: the alert's links ride on its timeline entry.
    assert declared_from.data["links"] == [
        {
            "href": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0",
            "text": "Source",
        },
        {"href": "https://runbooks.example.org/probe-failure", "text": "Runbook"},
    ]
    assert alert.links == declared_from.data["links"]
    assert alert.fingerprint == alert.dedup_key == "1a30ba71cca2921f"
    assert alert.raw["group"]["groupKey"] == alertmanager_payload()["groupKey"]


def test_a_retried_delivery_creates_nothing_and_answers_the_same(fire):
    first = fire()
    entries = TimelineEntry.objects.count()

    again = fire()
    third = fire()

    assert again.status_code == third.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert Alert.objects.count() == 1 and Incident.objects.count() == 1
    assert Alert.objects.get().repeat_count == 2
    assert TimelineEntry.objects.count() == entries  # repeats write no timeline entry


def test_a_new_alert_of_the_same_service_joins_the_incident(fire):
    fire(am_alert(1))
    incident = Incident.objects.get()

    fire(am_alert(2), am_alert(3))

    assert Incident.objects.count() == 1
    assert set(Alert.objects.values_list("incident", flat=True)) == {incident.pk}
    joined = incident.timeline.filter(kind="alert", data__action="attached")
    assert [e.text for e in joined] == [
        "2 alerts from alertmanager monitor joined: Latency high on pay-2; Latency high on pay-3"
    ]


def test_another_service_declares_its_own_incident(fire, catalog):
    fire(am_alert(1))
    fire(am_alert(1, service="search"))

    assert Incident.objects.count() == 2
    assert {i.services.get() for i in Incident.objects.all()} == {catalog.payments, catalog.search}


def test_resolves_are_recorded_and_the_last_one_says_all_resolved(fire):
    fire(am_alert(1), am_alert(2))
    incident = Incident.objects.get()

    fire(am_alert(1, status="resolved"), status="resolved")
    assert not incident.timeline.filter(data__action="all_resolved").exists()
    resolved = Alert.objects.get(dedup_key="fp-payments-000001")
    assert resolved.status == "resolved" and resolved.ends_at.isoformat().startswith(
        "2025-03-14T09:30"
    )

    fire(am_alert(2, status="resolved"), status="resolved")
    fire(am_alert(2, status="resolved"), status="resolved")  # retried: nothing new

    assert Alert.objects.filter(status="resolved").count() == 2
    assert Alert.objects.count() == 2
    assert [e.text for e in incident.timeline.filter(data__action="all_resolved")] == [
        "All 2 alerts of this incident are resolved"
    ]
    incident.refresh_from_db()
    assert incident.is_open  # auto-resolve is off by default


def test_auto_resolve_resolves_the_incident_through_the_lifecycle(fire, alertmanager):
    alertmanager.integration.auto_resolve = True
    alertmanager.integration.save()
    fire(am_alert(1))

    fire(am_alert(1, status="resolved"), status="resolved")

    incident = Incident.objects.get()
    assert incident.status == Incident.Status.RESOLVED and incident.resolved_at is not None
    assert incident.timeline.filter(kind="status", data__to="resolved").exists()


def test_the_same_alert_firing_again_after_resolving_is_a_new_alert(fire):
    fire(am_alert(1))
    fire(am_alert(1, status="resolved"), status="resolved")
    fire(am_alert(1))

    assert list(Alert.objects.order_by("id").values_list("status", flat=True)) == [
        "resolved",
        "firing",
    ]


def test_a_resolve_of_an_alert_never_seen_is_recorded_once_and_declares_nothing(fire):
    fire(am_alert(7, status="resolved"), status="resolved")
    fire(am_alert(7, status="resolved"), status="resolved")

    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.incident is None
    assert not Incident.objects.exists()


def test_dedup_labels_key_alerts_on_those_labels(fire, alertmanager):
    alertmanager.integration.dedup_labels = ["alertname", "service"]
    alertmanager.integration.save()

    fire(am_alert(1), am_alert(2))  # different fingerprints, same alertname and service

    alert = Alert.objects.get()
    assert alert.dedup_key.startswith("labels:") and alert.repeat_count == 1


def test_unknown_extra_fields_are_kept_in_raw(fire):
    fire({"labels": {"alertname": "X", "service": "payments"}, "newField": {"a": 1}})

    alert = Alert.objects.get()
    assert alert.raw["newField"] == {"a": 1}
    assert alert.raw["group"]["receiver"] == "incident-response"


def test_an_alert_without_a_service_is_stored_and_declares_nothing(fire):
    fire({"labels": {"alertname": "Orphan"}, "fingerprint": "orphan"})

    alert = Alert.objects.get()
    assert alert.service is None and alert.incident is None
    assert not Incident.objects.exists()
