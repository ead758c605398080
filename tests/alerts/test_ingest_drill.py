"""Drills through ingestion: a caller in Python (a game day) marks a delivery as a drill.
Its alerts declare drill incidents, say DRILL on the timeline, and never mix with real ones:
a drill alert does not join a real incident, a real alert does not join a drill incident,
and the same key firing for real and in a drill are two alerts."""

from incidents.alerts.models import Alert
from incidents.alerts.services import ingest, parse
from incidents.models import Incident, TimelineEntry

from .conftest import alertmanager_payload, am_alert, at


def _fire(integration, *alerts, now, drill=False, status="firing"):
    body = alertmanager_payload(*alerts, status=status)
    return ingest(integration=integration, alerts=parse("alertmanager", body), now=now, drill=drill)


def _alert_entries(incident):
    return list(
        incident.timeline.filter(kind=TimelineEntry.Kind.ALERT)
        .order_by("id")
        .values_list("text", flat=True)
    )


def test_a_drill_delivery_declares_a_drill_incident_that_says_drill(alertmanager):
    result = _fire(alertmanager.integration, am_alert(1), now=at(0), drill=True)

    incident = Incident.objects.get()
    assert result.declared == [incident]
    assert incident.is_drill
    alert = Alert.objects.get()
    assert alert.is_drill and alert.incident == incident
    assert "DRILL" in str(alert)
    assert _alert_entries(incident) == [
        "DRILL: Declared from alert Latency high on pay-1 by integration alertmanager monitor"
    ]
    declared = incident.timeline.get(kind=TimelineEntry.Kind.DECLARED)
    assert "(drill)" in declared.text


def test_a_drill_alert_never_joins_a_real_incident(alertmanager):
    _fire(alertmanager.integration, am_alert(1), now=at(0))
    _fire(alertmanager.integration, am_alert(2), now=at(1), drill=True)

    real, drill = Incident.objects.order_by("id")
    assert (real.is_drill, drill.is_drill) == (False, True)
    assert list(real.alerts.values_list("is_drill", flat=True)) == [False]
    assert list(drill.alerts.values_list("is_drill", flat=True)) == [True]


def test_a_real_alert_never_joins_a_drill_incident(alertmanager):
    _fire(alertmanager.integration, am_alert(1), now=at(0), drill=True)
    _fire(alertmanager.integration, am_alert(2), now=at(1))

    drill, real = Incident.objects.order_by("id")
    assert (drill.is_drill, real.is_drill) == (True, False)
    assert real.alerts.get().is_drill is False


def test_drill_alerts_join_their_drill_incident_saying_drill(alertmanager):
    _fire(alertmanager.integration, am_alert(1), now=at(0), drill=True)
    _fire(alertmanager.integration, am_alert(2), am_alert(3), now=at(1), drill=True)

    incident = Incident.objects.get()
    assert incident.alerts.count() == 3
    assert _alert_entries(incident)[-1].startswith("DRILL: 2 alerts from alertmanager monitor")


def test_the_same_key_firing_for_real_and_in_a_drill_is_two_alerts(alertmanager):
    _fire(alertmanager.integration, am_alert(1), now=at(0))
    repeat = _fire(alertmanager.integration, am_alert(1), now=at(1), drill=True)

    assert repeat.created == 1 and repeat.repeats == 0
    assert Alert.objects.filter(dedup_key="fp-payments-000001").count() == 2
    again = _fire(alertmanager.integration, am_alert(1), now=at(2), drill=True)
    assert again.repeats == 1 and Alert.objects.count() == 2


def test_a_drill_resolve_resolves_the_drill_alert_only(alertmanager):
    _fire(alertmanager.integration, am_alert(1), now=at(0))
    _fire(alertmanager.integration, am_alert(1), now=at(1), drill=True)

    _fire(
        alertmanager.integration,
        am_alert(1, status="resolved"),
        now=at(2),
        drill=True,
        status="resolved",
    )

    statuses = dict(Alert.objects.values_list("is_drill", "status"))
    assert statuses == {False: "firing", True: "resolved"}
    drill = Incident.objects.get(is_drill=True)
    assert _alert_entries(drill)[-1] == "DRILL: All 1 alert of this incident are resolved"
