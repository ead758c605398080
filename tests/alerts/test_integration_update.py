"""Changing an integration's settings through ``integration_update``: each value checked
(a ``RuleError`` naming the field, nothing saved), one history row naming the settings and
who, the heartbeat's due time kept right; the admin saves through it."""

from datetime import timedelta

import pytest
from django.urls import reverse

from incidents.alerts.models import Integration
from incidents.alerts.services import integration_update
from ircore.errors import RuleError

from .conftest import at


def test_settings_change_in_one_history_row_naming_them(alertmanager, catalog, make_user):
    ops = make_user("olga")
    integration = alertmanager.integration
    before = integration.history.count()

    integration_update(
        integration=integration,
        user=ops,
        name="Prometheus EU",
        service=catalog.search,
        dedup_labels=["alertname", " instance", "alertname"],
        group_window=timedelta(minutes=15),
        auto_resolve=True,
        enabled=True,  # as it was: not a change
    )

    integration.refresh_from_db()
    assert integration.name == "Prometheus EU" and integration.service == catalog.search
    assert integration.dedup_labels == ["alertname", "instance"]
    assert integration.group_window == timedelta(minutes=15) and integration.auto_resolve
    assert integration.history.count() == before + 1
    row = integration.history.first()
    assert row.history_user == ops
    assert row.history_change_reason == (
        "settings: name, service, dedup_labels, group_window, auto_resolve"
    )


def test_nothing_changed_writes_no_history(alertmanager):
    integration = alertmanager.integration
    before = integration.history.count()
    integration_update(integration=integration, user=None, name=integration.name)
    assert integration.history.count() == before


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"name": "  "}, "name", "An integration needs a name."),
        ({"name": "x" * 101}, "name", "At most 100 characters."),
        ({"name": "generic monitor"}, "name", "An integration named 'generic monitor' exists"),
        ({"enabled": "yes"}, "enabled", "Give true or false."),
        ({"service": "payments"}, "service", "Choose a service, or none."),
        ({"dedup_labels": ["alertname", ""]}, "dedup_labels", "Give label names (or none)."),
        ({"dedup_labels": "alertname"}, "dedup_labels", "Give label names (or none)."),
        ({"group_window": timedelta(0)}, "group_window", "Give a positive interval."),
        ({"group_window": "5m"}, "group_window", "Give a duration (e.g. 5m)."),
        ({"group_window": None}, "group_window", "Give a duration (e.g. 5m)."),
        ({"heartbeat_every": timedelta(-1)}, "heartbeat_every", "Give a positive interval."),
        ({"heartbeat_grace": timedelta(-1)}, "heartbeat_grace", "Give a grace of zero or more."),
        ({"kind": "events"}, "kind", "'kind' is not a setting that can be changed."),
        ({"token_hash": "0" * 64}, "token_hash", "is not a setting that can be changed."),
    ],
)
def test_a_bad_value_names_the_field_and_saves_nothing(
    alertmanager, generic, changes, field, message
):
    integration = alertmanager.integration
    before = (integration.history.count(), Integration.objects.get(pk=integration.pk).name)

    with pytest.raises(RuleError) as refused:
        # A good change alongside: nothing of it is saved either.
        integration_update(integration=integration, user=None, auto_resolve=True, **changes)

    assert refused.value.field == field and message in refused.value.message
    saved = Integration.objects.get(pk=integration.pk)
    assert (saved.history.count(), saved.name) == before and not saved.auto_resolve


def test_a_heartbeat_is_due_from_the_last_ping_and_again_from_now_when_enabled_again(
    alertmanager,
):
    integration = alertmanager.integration
    Integration.objects.filter(pk=integration.pk).update(last_ping_at=at(0))

    integration_update(
        integration=integration,
        user=None,
        heartbeat_every=timedelta(minutes=30),
        heartbeat_grace=timedelta(minutes=10),
        now=at(5),
    )
    assert integration.heartbeat_due_at == at(40)

    integration_update(integration=integration, user=None, enabled=False, now=at(10))
    assert integration.heartbeat_due_at == at(40)  # heartbeats_check stops expecting it
    integration_update(integration=integration, user=None, enabled=True, now=at(200))
    assert integration.heartbeat_due_at == at(240)

    integration_update(integration=integration, user=None, heartbeat_every=None, now=at(201))
    assert integration.heartbeat_due_at is None


def test_the_admin_saves_settings_through_the_service(client, cast, alertmanager):
    integration = alertmanager.integration
    client.force_login(cast.manager)
    data = {
        "name": "Prometheus renamed",
        "service": "",
        "severity": integration.severity_id,
        "dedup_labels": "",
        "group_window": "5m",
        "heartbeat_every": "",
        "heartbeat_grace": "5m",
        "rules-TOTAL_FORMS": "0",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }  # "enabled" left out: unticked

    response = client.post(
        reverse("admin:incidents_integration_change", args=[integration.pk]), data
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    integration.refresh_from_db()
    assert integration.name == "Prometheus renamed" and not integration.enabled
    row = integration.history.first()
    assert row.history_change_reason == "settings: name, enabled"
    assert row.history_user == cast.manager
