"""The ``integrations`` section of each seed policy file: the monitors its document names,
as integrations of the right kind, and how their alerts' severity words land on the file's
levels (checked by previewing a real-shaped payload through the imported integration,
which stores nothing). The quote each assertion checks stands next to it (documents in
``/work/shared/seeds/``)."""

from pathlib import Path

import pytest

from incidents.alerts.models import Alert, Integration
from incidents.alerts.services import preview
from incidents.policy_integrations import has_token
from ircore import policy
from ircore.models import Severity

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def payload(kind: str, word: str | None) -> dict:
    """One alert of ``kind`` whose severity says ``word`` (None: says nothing)."""
    if kind == "alertmanager":
        labels = {"alertname": "ErrorRate", "instance": "pay-1:9100"}
        if word:
            labels["severity"] = word
        return {
            "version": "4",
            "status": "firing",
            "receiver": "incident-response",
            "groupKey": '{}:{alertname="ErrorRate"}',
            "truncatedAlerts": 0,
            "groupLabels": {"alertname": "ErrorRate"},
            "commonLabels": labels,
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example.org:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": {"summary": "Error rate > 5%"},
                    "startsAt": "2025-03-14T08:55:45.828Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.example.org:9090/graph",
                    "fingerprint": f"fp-{word}",
                }
            ],
        }
    if kind == "events":
        return {
            "routing_key": "x" * 32,
            "event_action": "trigger",
            "dedup_key": f"key-{word}",
            "payload": {
                "summary": "Error rate > 5%",
                "source": "pay-1",
                "severity": word or "info",
            },
        }
    body = {"title": "Error rate > 5%", "dedup_key": f"key-{word}", "status": "firing"}
    if word:
        body["severity"] = word
    return body


def load(name: str) -> dict[str, Integration]:
    policy.import_policy(policy.load_policy_file(POLICIES / name))
    return {i.name: i for i in Integration.objects.all()}


def routed(integration: Integration, word: str | None) -> str:
    (shown,) = preview(integration=integration, payload=payload(integration.kind, word))
    return shown.severity.key


def kinds(integrations: dict[str, Integration]) -> dict[str, str]:
    return {name: i.kind for name, i in integrations.items()}


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_file_brings_integrations_without_tokens_that_round_trip(db, path):
    integrations = load(path.name)

    assert integrations
    exported = policy.export_policy()["integrations"]
    assert exported == policy.load_policy_file(path)["integrations"]
    for integration in integrations.values():
        # No token travels in a file: nothing can post until one is rotated in.
        assert integration.token_hint == "" and not has_token(integration)
        assert "token" not in str(exported)
    # Importing the file again changes nothing.
    assert not policy.import_policy(policy.load_policy_file(path)).changed
    assert not Alert.objects.exists()


def test_default(db):
    integrations = load("default.yaml")
    # 000_* "Detection methods: Prometheus alerts firing"; "AlertManager for notifications"
    assert kinds(integrations) == {"Prometheus Alertmanager": "alertmanager"}
    am = integrations["Prometheus Alertmanager"]
    # "### SEV-1: Critical (Page immediately)"
    assert routed(am, "critical") == "SEV-1"
    assert routed(am, "warning") == "SEV-3"
    assert routed(am, None) == "SEV-4"


def test_fintech(db):
    integrations = load("fintech.yaml")
    # "- Prometheus alerts firing" / "- Datadog anomaly detection" (Phase 1: Detection)
    assert kinds(integrations) == {
        "Prometheus Alertmanager": "alertmanager",
        "Datadog": "generic",
    }
    for integration in integrations.values():
        # "### SEV-1: Critical (Page immediately)" / "### SEV-2: High (Page senior engineer)"
        assert routed(integration, "critical") == "SEV-1"
        assert routed(integration, "high") == "SEV-2"
        # "### SEV-3: Medium (Create ticket, page if ongoing)"
        assert routed(integration, "warning") == "SEV-3"
        assert routed(integration, "info") == "SEV-4"


def test_p0_p3(db):
    integrations = load("p0-p3.yaml")
    am = integrations["Prometheus Alertmanager"]
    assert am.kind == "alertmanager"
    # "Critical alerts → PagerDuty → On-call engineer" (P0 pages at 0 min)
    assert routed(am, "critical") == "P0"
    # "High alerts → Slack channel + Email"
    assert routed(am, "high") == "P1"
    # "Medium alerts → Slack channel"
    assert routed(am, "medium") == "P2"
    # "Low alerts → Ticket system"
    assert routed(am, "low") == "P3"
    assert routed(am, "warning") == "P2"


def test_supply_chain_finance(db):
    integrations = load("supply-chain-finance.yaml")
    # "PagerDuty for alerting and on-call management": an Events v2 endpoint
    assert kinds(integrations) == {"PagerDuty events": "events"}
    events = integrations["PagerDuty events"]
    # PagerDuty's four event severities onto SEV-1..SEV-4.
    assert [routed(events, w) for w in ("critical", "error", "warning", "info")] == [
        "SEV-1",
        "SEV-2",
        "SEV-3",
        "SEV-4",
    ]


def test_notification_service(db):
    integrations = load("notification-service.yaml")
    am = integrations["Prometheus Alertmanager"]
    assert kinds(integrations) == {"Prometheus Alertmanager": "alertmanager"}
    # "**Alerting**: PagerDuty for critical, Slack for warnings": critical pages, a
    # warning does not.
    critical, warning = routed(am, "critical"), routed(am, "warning")
    assert (critical, warning) == ("P0", "P2")
    levels = {s.key: s for s in Severity.objects.all()}
    assert levels[critical].page_immediately and not levels[warning].page_immediately


def test_team_ownership(db):
    integrations = load("team-ownership.yaml")
    # "Automated monitoring triggers alert (PagerDuty)"; "PagerDuty: Alert routing and
    # escalation"
    assert kinds(integrations) == {"PagerDuty events": "events"}
    events = integrations["PagerDuty events"]
    assert routed(events, "critical") == "SEV-1"
    assert routed(events, "error") == "SEV-2"
    assert routed(events, "info") == "SEV-4"
