"""Fixtures for the detection tests: a small policy (SEV-1..SEV-3), two services, integrations
of each kind with their tokens, and payloads in the real shapes the monitors post.

The Alertmanager payload is the version-4 webhook body as its documentation gives it; the
events one is PagerDuty's Events API v2 trigger example. Time is pinned at ``T0`` where the
services are called directly (they take ``now=``).
"""

import copy
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from incidents.alerts.models import RoutingRule
from incidents.alerts.services import integration_create
from ircore.models import Service, Severity, Team

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# Alertmanager's webhook body (version 4), as its documentation shows it.
ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}/{severity="critical"}:{alertname="ProbeFailure"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "incident-response",
    "groupLabels": {"alertname": "ProbeFailure"},
    "commonLabels": {"alertname": "ProbeFailure", "job": "http_checks", "severity": "critical"},
    "commonAnnotations": {"summary": "BlackBox Probe Failure: https://pay.example.org"},
    "externalURL": "http://alertmanager.example.org:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "ProbeFailure",
                "instance": "https://pay.example.org",
                "job": "http_checks",
                "service": "payments",
                "severity": "critical",
            },
            "annotations": {
                "summary": "BlackBox Probe Failure: https://pay.example.org",
                "description": "Instance https://pay.example.org has been down for over 5m.",
                "runbook_url": "https://runbooks.example.org/probe-failure",
            },
            "startsAt": "2025-03-14T08:55:45.828Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0",
            "fingerprint": "1a30ba71cca2921f",
        }
    ],
}

# PagerDuty's Events API v2 trigger example (routing key filled in by the test).
EVENT = {
    "payload": {
        "summary": "DISK at 99% on machine prod-datapipe03.example.com",
        "timestamp": "2025-03-14T08:42:58.315+0000",
        "severity": "critical",
        "source": "prod-datapipe03.example.com",
        "component": "mysql",
        "group": "prod-datapipe",
        "class": "disk",
        "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75},
    },
    "routing_key": "",
    "dedup_key": "samplekeyhere",
    "images": [
        {
            "src": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png",
            "href": "https://example.com/",
            "alt": "Example text",
        }
    ],
    "links": [{"href": "https://example.com/", "text": "Link text"}],
    "event_action": "trigger",
    "client": "Sample Monitoring Service",
    "client_url": "https://monitoring.example.com",
}

GENERIC = {
    "title": "Settlement batch failed",
    "dedup_key": "settlement-2025-03-14",
    "severity": "error",
    "status": "firing",
    "labels": {"service": "payments", "job": "settlement"},
    "links": [{"href": "https://ci.example.org/runs/1", "text": "Run"}],
}


def alertmanager_payload(*alerts: dict, status: str = "firing") -> dict:
    """The documented body with these alerts (each a partial alert merged over the sample)."""
    body = copy.deepcopy(ALERTMANAGER)
    body["status"] = status
    base = body["alerts"][0]
    body["alerts"] = [{**copy.deepcopy(base), **a} for a in (alerts or [{}])]
    return body


def am_alert(n: int, *, status: str = "firing", service: str = "payments", **labels) -> dict:
    """Alert ``n`` of a storm: its own instance and fingerprint."""
    return {
        "status": status,
        "labels": {
            "alertname": "HighLatency",
            "instance": f"pay-{n}:9100",
            "service": service,
            "severity": "critical",
            **labels,
        },
        "annotations": {"summary": f"Latency high on pay-{n}"},
        "fingerprint": f"fp-{service}-{n:06d}",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2025-03-14T09:30:00Z",
    }


def event_payload(token: str, **changes) -> dict:
    body = copy.deepcopy(EVENT)
    body["routing_key"] = token
    body.update(changes)
    return body


@pytest.fixture
def severities(db):
    levels = {}
    for rank, (key, name) in enumerate(
        [("SEV-1", "Critical"), ("SEV-2", "High"), ("SEV-3", "Medium")], 1
    ):
        levels[key] = Severity.objects.create(key=key, rank=rank, name=name)
    return SimpleNamespace(sev1=levels["SEV-1"], sev2=levels["SEV-2"], sev3=levels["SEV-3"])


@pytest.fixture
def catalog(db):
    team = Team.objects.create(name="Payments", slug="payments")
    return SimpleNamespace(
        payments=Service.objects.create(name="Payments API", slug="payments", team=team),
        search=Service.objects.create(name="Search", slug="search"),
    )


@pytest.fixture
def make_integration(db, severities, catalog, make_user):
    """An integration of a kind and its token, routing service=payments -> Payments API,
    service=search -> Search and severity=critical -> SEV-1 (default severity SEV-3)."""
    admin = make_user("ada")

    def make(kind: str, name: str | None = None, **fields):
        integration, token = integration_create(
            name=name or f"{kind} monitor",
            kind=kind,
            severity=severities.sev3,
            user=admin,
        )
        for position, (label, value, service, severity) in enumerate(
            [
                ("severity", "critical", None, severities.sev1),
                ("service", "payments", catalog.payments, None),
                ("service", "search", catalog.search, None),
            ]
        ):
            RoutingRule.objects.create(
                integration=integration,
                position=position,
                label=label,
                value=value,
                service=service,
                severity=severity,
            )
        for name_, value in fields.items():
            setattr(integration, name_, value)
        if fields:
            integration.save()
        return integration, token

    return make


@pytest.fixture
def alertmanager(make_integration):
    integration, token = make_integration("alertmanager")
    return SimpleNamespace(integration=integration, token=token)


@pytest.fixture
def events(make_integration, catalog):
    integration, token = make_integration("events", service=catalog.payments)
    return SimpleNamespace(integration=integration, token=token)


@pytest.fixture
def generic(make_integration):
    integration, token = make_integration("generic")
    return SimpleNamespace(integration=integration, token=token)


@pytest.fixture
def post(client):
    """POST JSON (a dict, or raw bytes) to an endpoint with an optional Bearer token."""

    def send(url: str, body, token: str | None = None, **headers):
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return client.post(url, data=data, content_type="application/json", **headers)

    return send
