"""Maintenance windows in the admin: made through ``maintenance_window_create`` (so the
window lands on the timeline of the incidents it overlaps), refused with the field named
and nothing written, a record once made (no edits, no deletes), and who may make one."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.alerts.models import MaintenanceWindow
from incidents.models import TimelineEntry

ADD = reverse("admin:incidents_maintenancewindow_add")
LIST = reverse("admin:incidents_maintenancewindow_changelist")


def form(catalog, start, end, reason="Database failover drill"):
    return {
        "service": catalog.payments.pk,
        "start_0": f"{start:%Y-%m-%d}",
        "start_1": f"{start:%H:%M:%S}",
        "end_0": f"{end:%Y-%m-%d}",
        "end_1": f"{end:%H:%M:%S}",
        "reason": reason,
    }


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def test_a_window_is_made_through_its_service_and_lands_on_overlapping_timelines(
    client, cast, catalog, severities, now
):
    incident = services.incident_declare(
        title="Payments slow",
        severity=severities.sev2,
        services=[catalog.payments],
        user=cast.manager,
        now=now - timedelta(minutes=10),
    )
    client.force_login(cast.responder)

    response = client.post(
        ADD, form(catalog, now - timedelta(minutes=30), now + timedelta(hours=1))
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    window = MaintenanceWindow.objects.get()
    assert window.created_by == cast.responder and window.reason == "Database failover drill"
    entry = incident.timeline.get(kind=TimelineEntry.Kind.ALERT, data__maintenance=window.pk)
    assert "Maintenance window on Payments API" in entry.text
    assert window.history.first().history_user == cast.responder


@pytest.mark.parametrize(
    ("shift", "reason", "field", "message"),
    [
        (-1, "Upgrade", "end", "The end must be after the start."),
        (1, "", "reason", "This field is required."),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    client, cast, catalog, now, shift, reason, field, message
):
    client.force_login(cast.manager)
    end = now + timedelta(hours=shift)

    response = client.post(ADD, form(catalog, now, end, reason))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in str(errors.get(field) or errors), errors
    assert not MaintenanceWindow.objects.exists()


def test_a_window_is_a_record_once_made(client, cast, catalog, now):
    client.force_login(cast.manager)
    client.post(ADD, form(catalog, now, now + timedelta(hours=1)))
    window = MaintenanceWindow.objects.get()
    change = reverse("admin:incidents_maintenancewindow_change", args=[window.pk])

    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {"reason": "changed"}).status_code == 403
    delete = reverse("admin:incidents_maintenancewindow_delete", args=[window.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert MaintenanceWindow.objects.get().reason == "Database failover drill"


def test_who_may_make_windows(client, cast, catalog, now):
    for person in (cast.support, cast.leader):
        client.force_login(person)
        assert client.get(ADD).status_code == 403
        assert client.post(ADD, form(catalog, now, now + timedelta(hours=1))).status_code == 403
    assert not MaintenanceWindow.objects.exists()
    client.force_login(cast.responder)
    assert client.get(ADD).status_code == 200
    assert client.get(LIST).status_code == 200
