"""The public status page: no login, components and their status, active incidents with
their published updates, maintenance, the 90-day bars, past incident pages."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from comms.status import components
from incidents import services as incident_services
from incidents.alerts.models import MaintenanceWindow

from .statuskit import declare, publish_notice, service

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    with time_machine.travel("2025-03-20 12:00:00+00:00", tick=False):
        yield timezone.now()


def test_no_login_and_all_operational(client, now):
    service("Payments API")
    response = client.get("/status/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "All Systems Operational" in html
    assert "Payments API" in html
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert "/static/comms/status.css" in html
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "public" in response["Cache-Control"]


def test_component_status_is_the_worst_of_open_real_incidents(client, now):
    api = service("Payments API", public_name="Payments")
    dash = service("Dashboard")
    first = declare(api, now=now)  # degraded
    second = declare(api, now=now)
    incident_services.affected_service_set(
        incident=second, service=api, status="major_outage", user=None, now=now
    )
    drill = declare(dash, now=now, is_drill=True)
    incident_services.affected_service_set(
        incident=drill, service=dash, status="major_outage", user=None, now=now
    )
    states = components.component_states([api.pk, dash.pk])
    assert states[api.pk].status == "major_outage"
    assert states[dash.pk].status == "operational"  # a drill never shows
    html = client.get("/status/").content.decode()
    assert "Major System Outage" in html
    assert "Payments" in html and "Payments API" not in html  # the public name
    incident_services.incident_set_status(incident=second, status="resolved", user=None, now=now)
    assert components.component_states([api.pk])[api.pk].status == "degraded"
    incident_services.incident_set_status(incident=first, status="resolved", user=None, now=now)
    assert components.component_states([api.pk])[api.pk].status == "operational"


def test_active_incident_shows_its_published_updates_newest_first(client, now):
    api = service("Payments API")
    incident = declare(api, now=now)
    publish_notice(incident, "Card payments delayed", "We are investigating.", published_at=now)
    publish_notice(
        incident,
        "Fix deployed",
        "Payments are **recovering**.",
        published_at=now + timedelta(minutes=30),
    )
    html = client.get("/status/").content.decode()
    assert "Active incidents" in html
    assert html.index("Fix deployed") < html.index("We are investigating.")
    assert "<strong>recovering</strong>" in html
    assert f'href="/status/incidents/{incident.pk}/"' in html
    # The incident's name is its first public update's subject.
    assert ">Card payments delayed</a>" in html


def test_an_incident_without_a_published_update_is_not_listed_but_colours_its_component(
    client, now
):
    api = service("Payments API")
    incident = declare(api, now=now)
    html = client.get("/status/").content.decode()
    assert "Degraded Performance" in html
    assert "Active incidents" not in html
    assert client.get(f"/status/incidents/{incident.pk}/").status_code == 404


def test_maintenance_upcoming_and_in_progress(client, now):
    api, dash = service("Payments API"), service("Dashboard")
    internal = service("Ledger", public=False)
    MaintenanceWindow.objects.create(
        service=api, start=now - timedelta(hours=1), end=now + timedelta(hours=1), reason="r"
    )
    start, end = now + timedelta(days=2), now + timedelta(days=2, hours=2)
    for svc in (api, dash, internal):
        MaintenanceWindow.objects.create(service=svc, start=start, end=end, reason="r")
    MaintenanceWindow.objects.create(
        service=dash, start=now - timedelta(days=3), end=now - timedelta(days=2), reason="r"
    )
    html = client.get("/status/").content.decode()
    assert "Scheduled Maintenance In Progress" in html
    assert "Under maintenance" in html
    assert "Scheduled maintenance: Payments API, Dashboard" in html
    assert html.count('class="maintenance-window') == 2
    assert "Ledger" not in html


def test_bars_and_uptime(client, now):
    api = service("Payments API")
    with time_machine.travel(now - timedelta(days=2), tick=False):
        incident = declare(api, now=timezone.now())
        incident_services.affected_service_set(
            incident=incident, service=api, status="major_outage", user=None, now=timezone.now()
        )
    with time_machine.travel(now - timedelta(days=2) + timedelta(hours=2.4), tick=False):
        incident_services.incident_set_status(
            incident=incident, status="resolved", user=None, now=timezone.now()
        )
    html = client.get("/status/").content.decode()
    bars = html.split('<ol class="bars"')[1].split("</ol>")[0]
    assert bars.count("<li") == 90
    assert bars.count('<li class="d3"') == 1 and bars.count("<li class=") == 1
    assert '<li class="d3" title="18 Mar 2025 · 90.00% · major outage 2 h 24 min">' in bars
    # 90 days, one of them 90% up: 99.888...% shown as 99.88%.
    assert "99.88% uptime" in html


def test_past_incident_page(client, now):
    api = service("Payments API")
    incident = declare(api, now=now - timedelta(days=1))
    publish_notice(incident, "Payments delayed", "Looking.", published_at=now - timedelta(days=1))
    incident_services.incident_set_status(incident=incident, status="resolved", user=None, now=now)
    publish_notice(incident, "Resolved", "All good.", published_at=now)
    html = client.get("/status/").content.decode()
    assert "Past incidents" in html and ">Payments delayed</a>" in html
    page = client.get(f"/status/incidents/{incident.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Looking." in body and "All good." in body and "Resolved" in body
    assert f'id="update-{incident.notices.get(subject="Resolved").pk}"' in body


def test_missing_incident_is_404(client, now):
    assert client.get("/status/incidents/999999/").status_code == 404


def test_only_get(client, now):
    assert client.post("/status/").status_code == 405
    assert client.post("/status.json").status_code == 405


def test_while_one_rebuilds_the_history_the_others_show_the_figures_before(client, now):
    from django.core.cache import cache as django_cache

    from comms.status import cache

    api = service("Payments API")
    assert "100.00% uptime" in client.get("/status/").content.decode()
    with time_machine.travel(now - timedelta(days=2), tick=False):
        earlier = declare(api, now=timezone.now())
        incident_services.affected_service_set(
            incident=earlier, service=api, status="major_outage", user=None, now=timezone.now()
        )
    with time_machine.travel(now - timedelta(days=1), tick=False):
        incident_services.incident_set_status(
            incident=earlier, status="resolved", user=None, now=timezone.now()
        )
    # A day at major outage of 90: the change moved the key, the history was rebuilt.
    assert "98.88% uptime" in client.get("/status/").content.decode()

    with time_machine.travel(now - timedelta(days=5), tick=False):
        older = declare(api, now=timezone.now())
        incident_services.affected_service_set(
            incident=older, service=api, status="major_outage", user=None, now=timezone.now()
        )
    with time_machine.travel(now - timedelta(days=4), tick=False):
        incident_services.incident_set_status(
            incident=older, status="resolved", user=None, now=timezone.now()
        )
    stale_key = cache.key("history-latest", ([api.pk], now.date(), True))
    assert django_cache.add(f"{stale_key}:lock", 1, 30)  # another process is rebuilding
    assert "98.88% uptime" in client.get("/status/").content.decode()
    django_cache.delete(f"{stale_key}:lock")
    assert "97.77% uptime" in client.get("/status/").content.decode()
