"""Maintenance windows: alerts during one are recorded with ``suppressed_by``, declare
nothing and page no one; the window goes on the timeline of the incidents it overlaps."""

import pytest

from incidents import signals
from incidents.alerts.models import Alert
from incidents.alerts.services import ingest, maintenance_window_create, parse
from incidents.models import Incident
from incidents.services import affected_service_set, incident_declare, incident_set_status
from ircore.errors import RuleError

from .conftest import alertmanager_payload, am_alert, at


def _fire(integration, *alerts, now):
    return ingest(
        integration=integration,
        alerts=parse("alertmanager", alertmanager_payload(*alerts)),
        now=now,
    )


def test_an_alert_during_a_window_is_recorded_and_declares_nothing(
    alertmanager, catalog, make_user, django_capture_on_commit_callbacks
):
    window = maintenance_window_create(
        service=catalog.payments, start=at(0), end=at(60), reason="DB upgrade", user=make_user("m")
    )
    declared = []
    signals.incident_declared.connect(
        lambda **kw: declared.append(kw), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _fire(alertmanager.integration, am_alert(1), now=at(10))
    finally:
        signals.incident_declared.disconnect(dispatch_uid="t")

    alert = Alert.objects.get()
    assert alert.suppressed_by == window and alert.incident is None
    assert not Incident.objects.exists() and declared == []


def test_other_services_and_times_are_not_suppressed(alertmanager, catalog, make_user):
    maintenance_window_create(
        service=catalog.search, start=at(0), end=at(60), reason="reindex", user=make_user("m")
    )
    _fire(alertmanager.integration, am_alert(1), now=at(10))  # payments: not in maintenance
    _fire(alertmanager.integration, am_alert(2, service="search"), now=at(61))  # after it

    assert Incident.objects.count() == 2
    assert not Alert.objects.filter(suppressed_by__isnull=False).exists()


def test_a_window_created_over_an_open_incident_goes_on_its_timeline(
    alertmanager, catalog, make_user
):
    _fire(alertmanager.integration, am_alert(1), now=at(0))
    incident = Incident.objects.get()

    window = maintenance_window_create(
        service=catalog.payments,
        start=at(5),
        end=at(30),
        reason="failover",
        user=make_user("m"),
        now=at(5),
    )

    entries = incident.timeline.filter(data__maintenance=window.pk)
    assert [e.text for e in entries] == [
        "Maintenance window on Payments API: 2025-03-14 09:05 UTC to 2025-03-14 09:30 UTC "
        "(failover)"
    ]


def test_a_declaration_after_a_window_it_overlaps_shows_the_window(
    alertmanager, catalog, make_user
):
    window = maintenance_window_create(
        service=catalog.payments, start=at(-60), end=at(-2), reason="patching", user=make_user("m")
    )
    # The probe has failed since 08:55 (startsAt): the window ended at 08:58, after that.
    _fire(alertmanager.integration, {}, now=at(0))

    incident = Incident.objects.get()
    assert incident.timeline.filter(data__maintenance=window.pk).count() == 1


@pytest.mark.parametrize(
    "start, end, reason, field",
    [(at(10), at(0), "x", "end"), (at(0), at(10), " ", "reason"), (None, at(10), "x", "start")],
)
def test_bad_windows_are_refused(catalog, make_user, start, end, reason, field):
    with pytest.raises(RuleError) as error:
        maintenance_window_create(
            service=catalog.payments, start=start, end=end, reason=reason, user=make_user("m")
        )
    assert error.value.field == field


def test_a_person_declaring_during_a_window_sees_it_on_the_timeline(catalog, severities, make_user):
    responder = make_user("responder")
    window = maintenance_window_create(
        service=catalog.payments,
        start=at(-30),
        end=at(30),
        reason="db upgrade",
        user=responder,
        now=at(-40),
    )
    incident = incident_declare(
        title="Card payments slow",
        severity=severities.sev2,
        services=[catalog.payments, catalog.search],
        user=responder,
        now=at(0),
    )

    entries = list(incident.timeline.filter(data__maintenance__isnull=False))
    assert [(e.data["maintenance"], e.data["service"]) for e in entries] == [
        (window.pk, catalog.payments.slug)
    ]
    assert "db upgrade" in entries[0].text


def test_a_service_added_during_its_window_brings_the_window_once(catalog, severities, make_user):
    responder = make_user("responder")
    window = maintenance_window_create(
        service=catalog.search,
        start=at(5),
        end=at(60),
        reason="reindex",
        user=responder,
        now=at(-1),
    )
    incident = incident_declare(
        title="Checkout errors",
        severity=severities.sev2,
        services=[catalog.payments],
        user=responder,
        now=at(0),
    )
    # Declared before the window began: nothing yet.
    assert not incident.timeline.filter(data__maintenance=window.pk).exists()

    affected_service_set(
        incident=incident, service=catalog.search, status="degraded", user=responder, now=at(10)
    )
    affected_service_set(
        incident=incident, service=catalog.search, status="major_outage", user=responder, now=at(12)
    )

    assert incident.timeline.filter(data__maintenance=window.pk).count() == 1


def test_a_window_over_before_the_impact_is_not_shown(catalog, severities, make_user):
    responder = make_user("responder")
    maintenance_window_create(
        service=catalog.payments,
        start=at(-120),
        end=at(-60),
        reason="old",
        user=responder,
        now=at(-120),
    )
    incident = incident_declare(
        title="Card payments slow",
        severity=severities.sev2,
        services=[catalog.payments],
        impact_started_at=at(-30),
        user=responder,
        now=at(0),
    )

    assert not incident.timeline.filter(data__maintenance__isnull=False).exists()


def test_a_window_that_ended_after_the_impact_began_is_shown(catalog, severities, make_user):
    responder = make_user("responder")
    window = maintenance_window_create(
        service=catalog.payments,
        start=at(-60),
        end=at(-20),
        reason="patching",
        user=responder,
        now=at(-60),
    )
    # Impact from -30 (inside the window), declared at 0 (after it ended).
    incident = incident_declare(
        title="Card payments slow",
        severity=severities.sev2,
        services=[catalog.payments],
        impact_started_at=at(-30),
        user=responder,
        now=at(0),
    )

    assert incident.timeline.filter(data__maintenance=window.pk).count() == 1


def test_a_service_added_after_resolution_brings_no_later_window(catalog, severities, make_user):
    responder = make_user("responder")
    incident = incident_declare(
        title="Checkout errors",
        severity=severities.sev2,
        services=[catalog.payments],
        user=responder,
        now=at(0),
    )
    incident_set_status(incident=incident, status="resolved", user=responder, now=at(10))
    maintenance_window_create(  # after the resolution: not this incident's
        service=catalog.search,
        start=at(100),
        end=at(200),
        reason="reindex",
        user=responder,
        now=at(90),
    )
    during = maintenance_window_create(
        service=catalog.search,
        start=at(5),
        end=at(8),
        reason="restart",
        user=responder,
        now=at(95),
    )

    affected_service_set(
        incident=incident, service=catalog.search, status="degraded", user=responder, now=at(150)
    )

    noted = set(incident.timeline.values_list("data__maintenance", flat=True)) - {None}
    assert noted == {during.pk}
