"""The demo's detection data (``make run``): an Alertmanager integration with routing rules
whose alert declared the open demo incident through the real ingestion service, repeats
counted, a joined alert that resolved, and an alert a maintenance window suppressed; loaded
once, whatever the policy calls its levels."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from incidents.alerts.models import Alert, Integration, MaintenanceWindow
from incidents.demo import DEMO_INTEGRATION
from incidents.models import Incident, TimelineEntry

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.SITE_URL = "http://127.0.0.1:8123"
    return tmp_path


def bootstrap(*args: str) -> str:
    out = StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def test_the_demo_shows_an_incident_an_alert_declared(db, var_dir):
    out = bootstrap()

    assert "1 integrations" in out and "1 maintenance windows" in out and "3 alerts" in out
    integration = Integration.objects.get(name=DEMO_INTEGRATION)
    assert integration.kind == "alertmanager"
    assert [(r.label, r.value, r.service.slug) for r in integration.rules.order_by("position")][
        :2
    ] == [("service", "payments-api", "payments-api"), ("service", "settlement", "settlement")]

    # One real incident declared by a monitor (the other demos declare theirs by hand, and the
    # drills' game day is a drill).
    assert Incident.objects.real().filter(created_by=None).count() == 1
    declared = Alert.objects.get(fingerprint="demo-cardautherrorrate")
    incident = declared.incident
    assert incident.title == "Card payments failing for some merchants"
    assert incident.created_by is None  # the monitor declared it, through the services
    assert incident.severity.rank == 2  # severity=error: the second level
    assert incident.impact_started_at < incident.detected_at == declared.received_at
    assert incident.timeline.filter(
        kind=TimelineEntry.Kind.ALERT, text__startswith="Declared from alert"
    ).exists()
    assert declared.repeat_count == 2 and declared.status == "firing"
    assert {s.slug for s in incident.services.all()} == {"payments-api", "webhooks"}
    assert incident.acknowledged_at is not None and incident.status == "investigating"

    joined = Alert.objects.get(fingerprint="demo-cardgatewaylatencyhigh")
    assert joined.incident == incident and joined.status == "resolved"

    suppressed = Alert.objects.get(fingerprint="demo-settlementbatchlag")
    window = MaintenanceWindow.objects.get(service__slug="settlement")
    assert suppressed.suppressed_by == window and suppressed.incident is None
    assert window.service.slug == "settlement"


def test_the_demo_loads_once(db, var_dir):
    bootstrap()
    counts = (Alert.objects.count(), Integration.objects.count(), Incident.objects.count())

    second = bootstrap()

    assert "Demo data: already loaded" in second
    assert (Alert.objects.count(), Integration.objects.count(), Incident.objects.count()) == counts


@pytest.mark.parametrize("name", ["p0-p3.yaml", "notification-service.yaml"])
def test_the_demo_fits_another_scheme(db, var_dir, name):
    bootstrap("--policy", str(POLICIES / name))

    incident = Alert.objects.get(fingerprint="demo-cardautherrorrate").incident
    assert incident.severity.key == "P1"
    # The policy's own integration is there too, without a token.
    assert Integration.objects.filter(name="Prometheus Alertmanager").exists()
