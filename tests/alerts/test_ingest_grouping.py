"""Grouping, through the services with the clock pinned: alerts of a service join its open
alert-fed incident while new alerts keep arriving within the integration's window (5 minutes
by default, sliding); after a quiet window, or once it is resolved, a new incident starts.
A storm stays one incident with one timeline entry per delivery."""

from datetime import timedelta

from incidents import services as incident_services
from incidents.alerts.models import Alert
from incidents.alerts.services import ingest, parse, preview
from incidents.models import Incident, TimelineEntry

from .conftest import alertmanager_payload, am_alert, at


def _fire(integration, *alerts, now):
    body = alertmanager_payload(*alerts)
    return ingest(integration=integration, alerts=parse("alertmanager", body), now=now)


def test_alerts_within_the_window_join_and_the_window_slides(alertmanager):
    integration = alertmanager.integration
    for n, minute in enumerate([0, 4, 8, 12]):  # each within 5 minutes of the previous
        _fire(integration, am_alert(n), now=at(minute))

    assert Incident.objects.count() == 1
    _fire(integration, am_alert(99), now=at(12 + 5.5))  # quiet for more than the window

    assert Incident.objects.count() == 2


def test_a_wider_window_is_per_integration(alertmanager):
    integration = alertmanager.integration
    integration.group_window = timedelta(minutes=30)
    integration.save()
    _fire(integration, am_alert(1), now=at(0))
    _fire(integration, am_alert(2), now=at(25))

    assert Incident.objects.count() == 1


def test_a_resolved_incident_is_not_joined(alertmanager, make_user):
    _fire(alertmanager.integration, am_alert(1), now=at(0))
    incident = Incident.objects.get()
    incident_services.incident_set_status(
        incident=incident, status="resolved", user=make_user("r"), now=at(1)
    )

    _fire(alertmanager.integration, am_alert(2), now=at(2))

    assert Incident.objects.count() == 2


def test_an_incident_a_person_declared_is_not_joined(alertmanager, catalog, severities, make_user):
    person = incident_services.incident_declare(
        title="Payments slow",
        severity=severities.sev2,
        services=[catalog.payments],
        user=make_user("p"),
        now=at(0),
    )

    _fire(alertmanager.integration, am_alert(1), now=at(1))

    assert Incident.objects.count() == 2
    assert not person.alerts.exists()


def test_alerts_of_two_integrations_for_one_service_group_together(make_integration):
    first, _ = make_integration("alertmanager", name="prom-a")
    second, _ = make_integration("alertmanager", name="prom-b")
    _fire(first, am_alert(1), now=at(0))
    _fire(second, am_alert(2), now=at(1))

    assert Incident.objects.count() == 1
    assert Alert.objects.filter(incident=Incident.objects.get()).count() == 2


def test_a_storm_stays_one_incident_with_one_entry_per_delivery(alertmanager):
    integration = alertmanager.integration
    for batch in range(5):  # 5 deliveries of 1,000 alerts, a minute apart
        alerts = [am_alert(batch * 1000 + n) for n in range(1000)]
        _fire(integration, *alerts, now=at(batch))
    _fire(integration, *[am_alert(n) for n in range(1000)], now=at(6))  # all repeats

    incident = Incident.objects.get()
    assert incident.alerts.count() == 5000
    alert_entries = incident.timeline.filter(kind=TimelineEntry.Kind.ALERT)
    assert alert_entries.count() == 5  # declared-from + 4 attachments; repeats add none
    last = alert_entries.last()
    assert last.data["count"] == 1000 and last.text.endswith("and 990 more")
    assert Alert.objects.filter(repeat_count=1).count() == 1000


def test_preview_shows_what_a_payload_would_become_and_stores_nothing(alertmanager, severities):
    integration = alertmanager.integration
    body = alertmanager_payload(am_alert(1), am_alert(2, service="search"))

    first = preview(integration=integration, payload=body, now=at(0))
    assert [(p.outcome, p.service.slug, p.severity.key) for p in first] == [
        ("new incident", "payments", "SEV-1"),
        ("new incident", "search", "SEV-1"),
    ]
    assert first[0].title == "Latency high on pay-1" and first[0].dedup_key == "fp-payments-000001"
    assert not Alert.objects.exists() and not Incident.objects.exists()

    _fire(integration, am_alert(1), now=at(0))
    incident = Incident.objects.get()
    later = preview(
        integration=integration, payload=alertmanager_payload(am_alert(1), am_alert(3)), now=at(1)
    )
    assert [(p.outcome, p.incident) for p in later] == [("repeat", incident), ("joins", incident)]
    assert later[1].description == f"joins {incident.reference}"
    assert Alert.objects.count() == 1


def test_an_incident_a_person_took_the_service_off_is_not_joined(alertmanager, catalog, make_user):
    # The payments alert declared it; a responder found the fault is in search, not payments.
    _fire(alertmanager.integration, am_alert(1), now=at(0))
    first = Incident.objects.get()
    responder = make_user("r")
    incident_services.affected_service_set(
        incident=first, service=catalog.search, status="major_outage", user=responder, now=at(1)
    )
    incident_services.affected_service_remove(
        incident=first, service=catalog.payments, user=responder, now=at(2)
    )

    _fire(alertmanager.integration, am_alert(2), now=at(3))

    second = Incident.objects.exclude(pk=first.pk).get()
    assert Alert.objects.get(fingerprint="fp-payments-000002").incident == second
    assert list(second.affected.values_list("service__slug", flat=True)) == ["payments"]
