"""The ``integrations`` policy section: integrations travel in the policy file by name, with
their routing, never with their tokens; a bad entry is named and nothing is written."""

import copy
from datetime import timedelta

import pytest

from incidents.alerts.models import Alert, Integration, RoutingRule
from incidents.alerts.services import (
    ingest,
    integration_for_token,
    integration_rotate_token,
    parse,
)
from incidents.policy_integrations import has_token
from ircore import policy
from ircore.models import Severity

from .conftest import T0, alertmanager_payload

SEVERITIES = [
    {"key": "SEV-1", "rank": 1, "name": "Critical"},
    {"key": "SEV-2", "rank": 2, "name": "High"},
    {"key": "SEV-3", "rank": 3, "name": "Medium"},
]


def entry(**changes) -> dict:
    base = {
        "name": "Prometheus",
        "kind": "alertmanager",
        "enabled": True,
        "service": "payments",
        "severity": "SEV-3",
        "dedup_labels": ["alertname", "instance"],
        "group_window": "10m",
        "auto_resolve": True,
        "heartbeat_every": None,
        "heartbeat_grace": "5m",
        "routing_rules": [
            {"label": "severity", "value": "critical", "service": None, "severity": "SEV-1"},
            {"label": "team", "value": "search", "service": "search", "severity": None},
            {"label": "env", "value": "*", "service": None, "severity": "SEV-2"},
        ],
    }
    base.update(changes)
    return base


def document(*integrations) -> dict:
    return {
        "version": 1,
        "severities": copy.deepcopy(SEVERITIES),
        "integrations": list(integrations),
    }


@pytest.fixture
def imported(severities, catalog):
    policy.import_policy(document(entry()))
    return Integration.objects.get(name="Prometheus")


def problems(doc) -> list[str]:
    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy(doc)
    return list(caught.value.problems)


def test_an_imported_integration_has_its_routing_and_no_token_until_rotated(imported, catalog):
    assert imported.kind == "alertmanager" and imported.service == catalog.payments
    assert imported.severity.key == "SEV-3" and imported.auto_resolve
    assert imported.group_window == timedelta(minutes=10)
    assert imported.dedup_labels == ["alertname", "instance"]
    rules = list(imported.rules.order_by("position"))
    assert [(r.label, r.value, r.position) for r in rules] == [
        ("severity", "critical", 1),
        ("team", "search", 2),
        ("env", "*", 3),
    ]
    assert rules[1].service == catalog.search and rules[0].severity.key == "SEV-1"
    # Nothing can post to it yet: it has no token.
    assert not has_token(imported) and imported.token_hint == ""
    assert rules[0].history.first().history_change_reason == "policy import"

    token = integration_rotate_token(integration=imported, user=None)

    assert integration_for_token(token) == imported
    imported.refresh_from_db()
    assert has_token(imported)


def test_the_export_is_the_file_and_names_no_token(imported):
    token = integration_rotate_token(integration=imported, user=None)
    exported = policy.export_policy()

    assert exported["integrations"] == [entry()]
    assert token not in str(exported) and imported.token_hint not in str(exported["integrations"])
    assert not policy.import_policy(exported).changed


def test_reimporting_changes_keep_the_token_and_replace_the_rules(imported, catalog):
    token = integration_rotate_token(integration=imported, user=None)
    changed = entry(
        enabled=False,
        severity=None,
        routing_rules=[
            {"label": "service", "value": "pay", "service": "payments", "severity": None}
        ],
    )

    summary = policy.import_policy(document(changed))

    assert str(summary.counts["integrations"]) == "0 created, 1 updated, 0 deleted"
    imported.refresh_from_db()
    assert integration_for_token(token) == imported  # the same token still opens it
    assert not imported.enabled and imported.severity is None
    assert [(r.label, r.value) for r in imported.rules.all()] == [("service", "pay")]


def test_an_integration_left_out_goes_unless_alerts_refer_to_it(imported, severities):
    token = integration_rotate_token(integration=imported, user=None)
    ingest(integration=imported, alerts=parse("alertmanager", alertmanager_payload()), now=T0)
    assert Alert.objects.filter(integration=imported).exists()

    found = problems(document())

    alert = Alert.objects.get()
    assert found == [
        "integrations: Prometheus is not in the file but cannot be removed: still referenced "
        f"by 1 alert ({alert}); keep it in the file with enabled: false to stop it taking alerts"
    ]
    assert integration_for_token(token) == imported

    Alert.objects.all().delete()
    summary = policy.import_policy(document())
    assert str(summary.counts["integrations"]) == "0 created, 0 updated, 1 deleted"
    assert not Integration.objects.exists() and not RoutingRule.objects.exists()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"kind": "nagios"}, 'integrations[0] (Prometheus).kind: "nagios" is not a kind'),
        ({"service": "billing"}, 'integrations[0] (Prometheus).service: unknown service "billing"'),
        (
            {"severity": "SEV-9"},
            'integrations[0] (Prometheus).severity: unknown severity "SEV-9" (the file\'s '
            "severities: SEV-1, SEV-2, SEV-3)",
        ),
        ({"group_window": "soon"}, 'integrations[0] (Prometheus).group_window: "soon" is not'),
        (
            {"heartbeat_every": "0s"},
            "integrations[0] (Prometheus).heartbeat_every: must be longer than 0s",
        ),
        ({"name": ""}, "integrations[0].name: must not be empty"),
        ({"token": "abc"}, 'integrations[0] (Prometheus).token: unknown field "token"'),
        (
            {"routing_rules": [{"label": "severity", "value": "critical"}]},
            "integrations[0] (Prometheus).routing_rules[0].service: a rule routes to a "
            "service, a severity or both; it names none",
        ),
        (
            {"routing_rules": [{"label": "", "value": "x", "severity": "SEV-1"}]},
            "integrations[0] (Prometheus).routing_rules[0].label: must not be empty",
        ),
        ({"routing_rules": "all"}, "integrations[0] (Prometheus).routing_rules: expected a list"),
    ],
)
def test_a_bad_entry_is_named_and_nothing_is_written(severities, catalog, changes, expected):
    found = problems(document(entry(**changes)))

    assert any(p.startswith(expected) for p in found), found
    assert not Integration.objects.exists() and not RoutingRule.objects.exists()


def test_two_integrations_with_one_name_are_refused(severities, catalog):
    found = problems(document(entry(), entry()))

    assert found == [
        'integrations[1] (Prometheus).name: "Prometheus" is used twice (also '
        "integrations[0] (Prometheus))"
    ]


def test_a_severity_switch_names_the_rules_that_still_hold_the_old_levels(imported):
    """Rules and defaults that name a level hold it (PROTECT): a switch that removes the
    level is refused naming them, and nothing changes. (The seed files name no level for
    this reason: the severity words route without.)"""
    p_levels = [{"key": f"P{n}", "rank": n + 1, "name": f"P{n}"} for n in range(3)]
    switched = entry(
        severity="P2",
        routing_rules=[
            {"label": "severity", "value": "critical", "service": None, "severity": "P0"}
        ],
    )

    found = problems({"version": 1, "severities": p_levels, "integrations": [switched]})

    assert any("SEV-1 Critical" in p and "1 routing rule (severity=critical)" in p for p in found)
    assert any("SEV-3 Medium" in p and "1 integration (Prometheus)" in p for p in found)
    imported.refresh_from_db()
    assert imported.severity.key == "SEV-3"
    assert set(Severity.objects.values_list("key", flat=True)) == {"SEV-1", "SEV-2", "SEV-3"}


def test_a_heartbeat_turned_off_by_the_file_expects_nothing(imported):
    imported.heartbeat_every = timedelta(minutes=30)
    imported.last_ping_at = T0
    imported.heartbeat_due_at = T0 + timedelta(minutes=35)
    imported.save()

    policy.import_policy(document(entry(heartbeat_every="1h")))
    imported.refresh_from_db()
    assert imported.heartbeat_due_at == T0 + timedelta(hours=1, minutes=5)

    policy.import_policy(document(entry()))
    imported.refresh_from_db()
    assert imported.heartbeat_every is None and imported.heartbeat_due_at is None
