"""The integrations' admin through the Django test client: creating one shows its token once
(and the endpoint with the configuration to paste), rotating gives a new one and the old
stops working, the token is never on any other page, routing rules keep their order, the
heartbeat goes through its service, and the "try a payload" box stores nothing."""

import json
import re

import pytest
from django.urls import reverse

from incidents.alerts.models import Alert, Integration, RoutingRule
from incidents.alerts.services import integration_for_token
from incidents.models import Incident, TimelineEntry

from .conftest import alertmanager_payload

ADD = reverse("admin:incidents_integration_add")
LIST = reverse("admin:incidents_integration_changelist")
TOKEN_RE = re.compile(r'<code id="ir-token" class="ir-wrap">([A-Za-z0-9_-]{32,})</code>')


def change(integration):
    return reverse("admin:incidents_integration_change", args=[integration.pk])


def rotate(integration):
    return reverse("admin:incidents_integration_rotate_token", args=[integration.pk])


def try_url(integration):
    return reverse("admin:incidents_integration_try", args=[integration.pk])


def add_form(**changes) -> dict:
    data = {
        "name": "Prometheus production",
        "kind": "alertmanager",
        "enabled": "on",
        "service": "",
        "severity": "",
        "dedup_labels": "alertname, instance",
        "group_window": "10m",
        "heartbeat_every": "",
        "heartbeat_grace": "5m",
        "rules-TOTAL_FORMS": "2",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "rules-0-position": "2",
        "rules-0-label": "service",
        "rules-0-value": "payments",
        "rules-1-position": "1",
        "rules-1-label": "severity",
        "rules-1-value": "critical",
    }
    data.update(changes)
    return data


@pytest.fixture
def manager(client, cast, severities, catalog):
    client.force_login(cast.manager)
    return client


def test_creating_shows_the_token_once_with_the_endpoint_and_config(manager, catalog, severities):
    data = add_form(
        **{"rules-0-service": catalog.payments.pk, "rules-1-severity": severities.sev1.pk}
    )

    response = manager.post(ADD, data)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    token = TOKEN_RE.search(html).group(1)
    integration = Integration.objects.get(name="Prometheus production")
    assert integration_for_token(token) == integration
    assert integration.token_hint == token[-4:] and token not in integration.token_hash
    assert "http://127.0.0.1:8000/api/v1/alerts/alertmanager/" in html
    assert f"credentials: {token}" in html and "webhook_configs:" in html
    assert integration.dedup_labels == ["alertname", "instance"]
    assert integration.group_window.total_seconds() == 600
    assert integration.created_by.username == "mia"
    # Rules in their order.
    rules = list(integration.rules.order_by("position"))
    assert [(r.position, r.label) for r in rules] == [(1, "severity"), (2, "service")]
    assert integration.history.first().history_user.username == "mia"

    # Never again: not on its page, not in the list, not in its history.
    history = reverse("admin:incidents_integration_history", args=[integration.pk])
    for url in (change(integration), LIST, history):
        page = manager.get(url)
        assert page.status_code == 200
        assert token not in page.content.decode(), url
    assert f"…{token[-4:]}" in manager.get(change(integration)).content.decode()


def test_rotating_gives_a_new_token_and_the_old_one_stops(manager, alertmanager):
    integration, old = alertmanager.integration, alertmanager.token

    confirm = manager.get(rotate(integration))
    assert confirm.status_code == 200 and old not in confirm.content.decode()
    response = manager.post(rotate(integration))

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new = TOKEN_RE.search(response.content.decode()).group(1)
    assert new != old
    assert integration_for_token(new) == integration
    assert integration_for_token(old) is None
    assert "The old token no longer works." in response.content.decode()


def test_an_events_integration_shows_pagerduty_configs_pointing_here(manager, events):
    response = manager.post(rotate(events.integration))

    html = response.content.decode()
    token = TOKEN_RE.search(html).group(1)
    assert "pagerduty_configs:" in html
    assert f"routing_key: {token}" in html
    assert "url: http://127.0.0.1:8000/v2/enqueue" in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"kind": "nagios"}, "kind", "Select a valid choice."),
        ({"group_window": "soon"}, "group_window", '"soon" is not a duration'),
        ({"heartbeat_every": "0s"}, "heartbeat_every", "Give a positive interval"),
        ({"rules-0-label": ""}, None, "This field is required."),
        ({}, None, "A rule routes to a service, a severity or both"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_written(manager, changes, field, message):
    response = manager.post(ADD, add_form(**changes))

    assert response.status_code == 200
    if field:
        errors = response.context["adminform"].form.errors[field]
    else:
        errors = [
            e
            for form in response.context["inline_admin_formsets"][0].formset.errors
            for messages in form.values()
            for e in messages
        ]
        errors += [
            str(e)
            for form in response.context["inline_admin_formsets"][0].formset
            for e in form.non_field_errors()
        ]
    assert any(message in e for e in errors), errors
    assert not Integration.objects.exists() and not RoutingRule.objects.exists()


def test_a_name_whose_slug_is_taken_is_refused_on_the_name(manager, alertmanager):
    taken = alertmanager.integration.name.upper()  # "ALERTMANAGER MONITOR": the same slug

    response = manager.post(ADD, add_form(name=taken, **{"rules-TOTAL_FORMS": "0"}))

    assert response.status_code == 200
    assert "slug is 'alertmanager-monitor'" in response.context["adminform"].form.errors["name"][0]
    assert Integration.objects.count() == 1


def test_setting_a_heartbeat_goes_through_its_service(manager, alertmanager):
    integration = alertmanager.integration
    page = manager.get(change(integration))
    form = page.context["adminform"].form
    data = {
        "name": integration.name,
        "enabled": "on",
        "service": "",
        "severity": integration.severity_id,
        "dedup_labels": "",
        "group_window": "5m",
        "heartbeat_every": "30m",
        "heartbeat_grace": "10m",
        "rules-TOTAL_FORMS": "3",
        "rules-INITIAL_FORMS": "3",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }
    for i, rule in enumerate(integration.rules.order_by("position")):
        data.update(
            {
                f"rules-{i}-id": rule.pk,
                f"rules-{i}-integration": integration.pk,
                f"rules-{i}-position": rule.position,
                f"rules-{i}-label": rule.label,
                f"rules-{i}-value": rule.value,
                f"rules-{i}-service": rule.service_id or "",
                f"rules-{i}-severity": rule.severity_id or "",
            }
        )
    assert form.initial["group_window"]

    response = manager.post(change(integration), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    integration.refresh_from_db()
    assert integration.heartbeat_every.total_seconds() == 1800
    assert integration.heartbeat_grace.total_seconds() == 600
    # The service set when the first ping is due: 30m + 10m from now.
    assert integration.heartbeat_due_at is not None
    reason = integration.history.first().history_change_reason
    assert reason == "settings: heartbeat_every, heartbeat_grace"
    # The page now says how to ping it.
    assert (
        "/api/v1/alerts/heartbeat/&lt;token&gt;/"
        in manager.get(change(integration)).content.decode()
    )


def test_the_try_box_shows_each_alert_and_stores_nothing(manager, alertmanager, catalog):
    integration = alertmanager.integration
    body = alertmanager_payload({}, {"fingerprint": "other", "labels": {"service": "search"}})
    assert "Try a payload" in manager.get(change(integration)).content.decode()

    response = manager.post(try_url(integration), {"payload": json.dumps(body)})

    assert response.status_code == 200
    results = response.context["results"]
    assert [(r.service, r.severity.key, r.outcome) for r in results] == [
        (catalog.payments, "SEV-1", "new incident"),
        (catalog.search, "SEV-3", "new incident"),
    ]
    html = response.content.decode()
    assert "BlackBox Probe Failure: https://pay.example.org" in html
    assert "<code>1a30ba71cca2921f</code>" in html
    assert not Alert.objects.exists() and not Incident.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_the_try_box_names_which_open_incident_an_alert_joins(manager, alertmanager, post):
    post("/api/v1/alerts/alertmanager/", alertmanager_payload(), alertmanager.token)
    incident = Incident.objects.get()
    body = alertmanager_payload({"fingerprint": "second"})

    response = manager.post(try_url(alertmanager.integration), {"payload": json.dumps(body)})

    (result,) = response.context["results"]
    assert result.outcome == "joins" and result.incident == incident
    assert f"joins {incident.reference}" in response.content.decode()
    assert Alert.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", "Not valid JSON: Expecting property name enclosed in double quotes"),
        ('{"alerts": "x"}', "alerts"),
        ("[]", ""),
    ],
)
def test_a_bad_payload_is_a_form_error_naming_the_problem(manager, alertmanager, payload, message):
    response = manager.post(try_url(alertmanager.integration), {"payload": payload})

    assert response.status_code == 200
    errors = response.context["form"].errors.get("payload", [])
    assert errors and message in errors[0], errors
    assert not Alert.objects.exists()


def test_an_imported_integration_has_no_token_until_rotated(manager, severities):
    from ircore import policy

    policy.import_policy(
        {
            "version": 1,
            "integrations": [{"name": "From file", "kind": "generic"}],
        }
    )
    integration = Integration.objects.get(name="From file")

    page = manager.get(change(integration)).content.decode()
    assert "None yet (imported from a policy file)" in page
    assert "has no token yet" in manager.get(rotate(integration)).content.decode()
    token = TOKEN_RE.search(manager.post(rotate(integration)).content.decode()).group(1)
    assert integration_for_token(token) == integration


def test_the_list_costs_the_same_for_many_integrations(
    manager, make_integration, django_assert_max_num_queries
):
    make_integration("generic", name="one")
    manager.get(LIST)
    with django_assert_max_num_queries(20) as few:
        manager.get(LIST)
    for n in range(20):
        make_integration("alertmanager", name=f"monitor {n}")
    with django_assert_max_num_queries(len(few)):
        response = manager.get(LIST)
    assert response.status_code == 200 and "monitor 19" in response.content.decode()


def test_who_may_do_what_with_integrations(client, cast, alertmanager):
    integration = alertmanager.integration
    # Responders read an integration and try payloads; they neither add nor rotate.
    client.force_login(cast.responder)
    assert client.get(change(integration)).status_code == 200
    assert client.get(ADD).status_code == 403
    assert client.post(rotate(integration)).status_code == 403
    assert client.post(try_url(integration), {"payload": "{}"}).status_code == 200
    page = client.get(change(integration)).content.decode()
    assert "Rotate token" not in page
    # Support and leadership see alerts only.
    for person in (cast.support, cast.leader):
        client.force_login(person)
        assert client.get(change(integration)).status_code == 403
        assert client.get(try_url(integration)).status_code == 403
        assert client.get(reverse("admin:incidents_alert_changelist")).status_code == 200
    assert integration_for_token(alertmanager.token) == integration


def test_history_cannot_bring_back_a_rotated_token(manager, alertmanager):
    integration, old = alertmanager.integration, alertmanager.token
    first = integration.history.earliest("history_date")
    manager.post(rotate(integration))
    revert = reverse(
        "admin:incidents_integration_simple_history", args=[integration.pk, first.history_id]
    )

    assert manager.post(revert, {"name": integration.name}).status_code == 403
    assert integration_for_token(old) is None
