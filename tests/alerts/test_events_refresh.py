"""PagerDuty Events v2: a trigger repeating a firing alert carries its current summary and
severity; when the severity rises the incident's timeline says so (the incident's own
severity stays a person's call). Through the endpoint, as a monitor posts."""

from incidents.alerts.models import Alert
from incidents.models import Incident, TimelineEntry

from .conftest import alertmanager_payload, am_alert, event_payload


def _event(post, token, summary, severity, key="disk-db-1"):
    body = event_payload(token, dedup_key=key)
    body["payload"] = {**body["payload"], "summary": summary, "severity": severity}
    response = post("/v2/enqueue", body)
    assert response.status_code == 202, response.content
    return response


def _entries(incident):
    return list(
        incident.timeline.filter(kind=TimelineEntry.Kind.ALERT)
        .order_by("id")
        .values_list("text", flat=True)
    )


def test_a_repeated_trigger_updates_the_alert_and_a_rise_goes_on_the_timeline(post, events):
    _event(post, events.token, "Disk 95% full on db-1", "warning")  # routes to SEV-3
    incident = Incident.objects.get()

    _event(post, events.token, "Disk 99% full on db-1", "critical")  # SEV-1 by its rule

    alert = Alert.objects.get()
    assert alert.summary == "Disk 99% full on db-1" and alert.severity.key == "SEV-1"
    assert alert.repeat_count == 1
    assert _entries(incident)[-1] == (
        "Alert disk-db-1 rose from SEV-3 to SEV-1 (integration events monitor): "
        "Disk 99% full on db-1"
    )
    entry = incident.timeline.get(data__action="severity_raised")
    assert entry.data["from"] == "SEV-3" and entry.data["to"] == "SEV-1"
    incident.refresh_from_db()
    assert incident.severity.key == "SEV-3"  # a person raises the incident's


def test_a_falling_severity_or_a_new_summary_updates_the_alert_only(post, events):
    _event(post, events.token, "Disk 99% full on db-1", "critical")
    incident = Incident.objects.get()
    before = _entries(incident)

    _event(post, events.token, "Disk 90% full on db-1", "warning")

    alert = Alert.objects.get()
    assert alert.summary == "Disk 90% full on db-1" and alert.severity.key == "SEV-3"
    assert _entries(incident) == before


def test_the_same_trigger_again_only_counts(post, events):
    _event(post, events.token, "Disk 95% full on db-1", "warning")
    incident = Incident.objects.get()
    before = _entries(incident)

    _event(post, events.token, "Disk 95% full on db-1", "warning")

    alert = Alert.objects.get()
    assert alert.repeat_count == 1 and alert.summary == "Disk 95% full on db-1"
    assert _entries(incident) == before


def test_alertmanager_repeats_do_not_rewrite_the_alert(post, alertmanager):
    url = "/api/v1/alerts/alertmanager/"
    post(url, alertmanager_payload(am_alert(1)), alertmanager.token)
    changed = am_alert(1)
    changed["annotations"] = {"summary": "Latency very high on pay-1"}

    post(url, alertmanager_payload(changed), alertmanager.token)

    alert = Alert.objects.get()
    assert alert.summary == "Latency high on pay-1" and alert.repeat_count == 1
