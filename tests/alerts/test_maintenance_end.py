"""Ending a maintenance window early (``maintenance_window_end``): its end is now, with a
history row naming who; the incidents it is on the timeline of say so; the alerts it held,
still firing, join or declare at their next arrival as after any window. Refused, writing
nothing, for a window already over or not started. In the admin: an action for those who
schedule windows."""

from datetime import timedelta

import pytest
from django.urls import reverse

from incidents.alerts.models import Alert, MaintenanceWindow
from incidents.alerts.services import (
    ingest,
    maintenance_window_create,
    maintenance_window_end,
    parse,
)
from incidents.models import Incident, TimelineEntry
from ircore.errors import RuleError

from .conftest import alertmanager_payload, am_alert, at

LIST = reverse("admin:incidents_maintenancewindow_changelist")


def _fire(integration, *alerts, now):
    body = alertmanager_payload(*alerts)
    return ingest(integration=integration, alerts=parse("alertmanager", body), now=now)


@pytest.fixture
def window(catalog, make_user):
    return maintenance_window_create(
        service=catalog.payments, start=at(0), end=at(120), reason="DB upgrade", user=make_user("m")
    )


def test_ending_early_sets_the_end_with_history_and_says_so_on_timelines(
    alertmanager, catalog, make_user, request
):
    ops = make_user("olga")
    _fire(alertmanager.integration, am_alert(1), now=at(-30))  # open when the window is made
    incident = Incident.objects.get()
    window = request.getfixturevalue("window")
    assert incident.timeline.filter(data__maintenance=window.pk).count() == 1

    maintenance_window_end(window=window, user=ops, now=at(45))

    window.refresh_from_db()
    assert window.end == at(45)
    last = window.history.first()
    assert last.history_user == ops and last.history_change_reason == "ended early"
    entry = incident.timeline.get(data__action="ended")
    assert entry.text == (
        "Maintenance window on Payments API ended early at 2025-03-14 09:45 UTC by olga"
        " (DB upgrade)"
    )
    assert entry.kind == TimelineEntry.Kind.ALERT and entry.author == ops


def test_a_held_alert_declares_at_its_next_arrival_after_the_early_end(alertmanager, window):
    _fire(alertmanager.integration, am_alert(1), now=at(10))
    held = Alert.objects.get()
    assert held.suppressed_by == window and not Incident.objects.exists()
    maintenance_window_end(window=window, user=None, now=at(30))

    _fire(alertmanager.integration, am_alert(1), now=at(31))  # the monitor sends it again

    incident = Incident.objects.get()
    held.refresh_from_db()
    assert held.incident == incident and held.suppressed_by == window
    _fire(alertmanager.integration, am_alert(2), now=at(32))  # no longer suppressed: joins
    assert Alert.objects.get(fingerprint="fp-payments-000002").incident == incident


@pytest.mark.parametrize(
    "when, message",
    [
        (at(-1), "This window starts at 2025-03-14 09:00 UTC: it cannot end before it starts."),
        (at(120), "This window ended at 2025-03-14 11:00 UTC already."),
        (at(500), "This window ended at 2025-03-14 11:00 UTC already."),
    ],
)
def test_a_window_not_running_cannot_end_early(window, when, message):
    with pytest.raises(RuleError) as refused:
        maintenance_window_end(window=window, user=None, now=when)

    assert refused.value.field == "end" and refused.value.message == message
    assert MaintenanceWindow.objects.get().end == at(120)
    assert window.history.count() == 1


def _running(catalog, user, reason="Failover"):
    from django.utils import timezone

    now = timezone.now()
    return maintenance_window_create(
        service=catalog.payments,
        start=now - timedelta(minutes=5),
        end=now + timedelta(hours=1),
        reason=reason,
        user=user,
    )


def test_the_admin_action_ends_running_windows_and_reports_the_others(client, cast, catalog):
    running = _running(catalog, cast.responder)
    over = maintenance_window_create(
        service=catalog.search, start=at(0), end=at(10), reason="Old", user=cast.responder
    )
    client.force_login(cast.responder)

    response = client.post(
        LIST,
        {"action": "end_now", "_selected_action": [running.pk, over.pk]},
        follow=True,
    )

    texts = [str(m) for m in response.context["messages"]]
    assert "Ended 1 window now." in texts
    assert any("This window ended at 2025-03-14 09:10 UTC already." in t for t in texts), texts
    running.refresh_from_db()
    assert running.end <= running.history.first().history_date
    assert MaintenanceWindow.objects.get(pk=over.pk).end == at(10)


def test_who_may_end_windows(client, cast, catalog):
    running = _running(catalog, cast.manager)
    for person in (cast.support, cast.leader):
        client.force_login(person)
        page = client.get(LIST)
        assert page.status_code in (200, 403)
        if page.status_code == 200:
            assert "end_now" not in page.content.decode()
        client.post(LIST, {"action": "end_now", "_selected_action": [running.pk]})
    assert MaintenanceWindow.objects.get().history.count() == 1  # not ended
    client.force_login(cast.manager)
    assert "end_now" in client.get(LIST).content.decode()
