"""/status.json in the hosted status pages' summary shape, and the Atom feed."""

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents import services as incident_services
from incidents.alerts.models import MaintenanceWindow

from .statuskit import declare, publish_notice, service

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def now():
    with time_machine.travel("2025-03-20 12:00:00+00:00", tick=False):
        yield timezone.now()


def test_summary_shape(client, now, settings):
    settings.STATUS_PAGE_NAME = "Acme status"
    api = service("Payments API", public_name="Payments")
    dash = service("Dashboard")
    incident = declare(api, now=now)
    incident_services.affected_service_set(
        incident=incident, service=api, status="partial_outage", user=None, now=now
    )
    notice = publish_notice(incident, "Payments delayed", "Looking.", components=[api])
    MaintenanceWindow.objects.create(
        service=dash,
        start=now + timedelta(days=1),
        end=now + timedelta(days=1, hours=1),
        reason="x",
    )
    response = client.get("/status.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert set(data) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert data["page"]["name"] == "Acme status"
    assert data["page"]["url"].endswith("/status/")
    assert data["page"]["updated_at"].startswith("2025-03-20T12:00:00")
    assert data["status"] == {"indicator": "major", "description": "Partial System Outage"}
    assert [(c["name"], c["status"]) for c in data["components"]] == [
        ("Dashboard", "operational"),
        ("Payments", "partial_outage"),
    ]
    (shown,) = data["incidents"]
    assert shown["id"] == str(incident.pk)
    assert shown["name"] == "Payments delayed"
    assert shown["status"] == "investigating"
    assert shown["impact"] == "major"
    assert shown["shortlink"].endswith(f"/status/incidents/{incident.pk}/")
    assert shown["components"] == [{"id": str(api.pk), "name": "Payments"}]
    (update,) = shown["incident_updates"]
    assert update["id"] == str(notice.pk) and update["body"] == "Looking."
    assert update["affected_components"] == [{"id": str(api.pk), "name": "Payments"}]
    (maintenance,) = data["scheduled_maintenances"]
    assert maintenance["status"] == "scheduled"
    assert maintenance["components"] == [{"id": str(dash.pk), "name": "Dashboard"}]
    assert maintenance["scheduled_for"].startswith("2025-03-21T12:00:00")


@pytest.mark.parametrize(
    "status, indicator",
    [
        ("degraded", "minor"),
        ("partial_outage", "major"),
        ("major_outage", "critical"),
    ],
)
def test_indicator(client, now, status, indicator):
    api = service("Payments API")
    incident = declare(api, now=now)
    if status != "degraded":
        incident_services.affected_service_set(
            incident=incident, service=api, status=status, user=None, now=now
        )
    assert client.get("/status.json").json()["status"]["indicator"] == indicator


def test_all_clear(client, now):
    service("Payments API")
    data = client.get("/status.json").json()
    assert data["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert data["incidents"] == [] and data["scheduled_maintenances"] == []


def test_feed_parses_and_lists_published_updates_newest_first(client, now):
    api = service("Payments API")
    incident = declare(api, now=now)
    first = publish_notice(incident, "Payments delayed", "Looking.", published_at=now)
    second = publish_notice(
        incident, "Payments recovering", "Better.", published_at=now + timedelta(minutes=5)
    )
    publish_notice(incident, "Draft words", status="draft")
    response = client.get("/status/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Payments recovering",
        "Payments delayed",
    ]
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link.endswith(f"/status/incidents/{incident.pk}/#update-{second.pk}")
    assert first.pk != second.pk
    assert all(e.find(f"{ATOM}author") is None for e in entries)
