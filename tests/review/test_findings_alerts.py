"""Reproductions of the review findings on issue 7 (detection). Each test failed on the
reviewed snapshot; those marked xfail(strict) need a change in a module this review does not
edit (the fix is in the reason)."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.alerts.admin_alerts import pretty_json
from incidents.alerts.models import Alert
from incidents.alerts.services import (
    heartbeat_ping,
    heartbeats_check,
    ingest,
    integration_set_heartbeat,
    maintenance_window_create,
    parse,
)
from incidents.models import Incident, TimelineEntry
from tests.alerts.conftest import *  # noqa: F401,F403  (the detection fixtures)
from tests.alerts.conftest import GENERIC, alertmanager_payload, am_alert, at, event_payload

AM = "/api/v1/alerts/alertmanager/"
EVENTS = "/v2/enqueue"
GENERIC_URL = "/api/v1/alerts/generic/"


@pytest.fixture
def nothing_written(db):
    def counts():
        return (Alert.objects.count(), Incident.objects.count(), TimelineEntry.objects.count())

    before = counts()
    yield
    assert counts() == before


@pytest.fixture
def no_raise(client):
    """A 500 is an answer to check, not an exception in the test."""
    client.raise_request_exception = False
    return client


# --- 1. a time beyond year 9999 once in UTC is a 500 -----------------------------------------


@pytest.mark.usefixtures("nothing_written", "no_raise")
def test_a_time_out_of_range_in_utc_is_400_naming_it(post, alertmanager):
    """``9999-12-31T23:59:59-05:00`` parses, but is year 10000 in UTC: converting it raised
    OverflowError (500). It is refused as the field it is."""
    body = alertmanager_payload({"startsAt": "9999-12-31T23:59:59-05:00"})
    response = post(AM, body, alertmanager.token)
    assert response.status_code == 400
    assert list(response.json()) == ["alerts[0].startsAt"]


# --- 2. text the database cannot store is a 500 ----------------------------------------------


def _with(body: dict, placeholder: str, escape: str) -> str:
    return json.dumps(body).replace(placeholder, escape)


UNSTORABLE = [
    # A lone surrogate in the summary: not UTF-8, so no database takes it (both backends).
    pytest.param(
        AM,
        lambda: _with(alertmanager_payload({"annotations": {"summary": "BAD"}}), "BAD", "\\ud800"),
        "alerts[0].annotations.summary",
        id="surrogate-summary",
    ),
    # NUL in an annotation, a label's name, an unknown field: PostgreSQL's jsonb refuses them.
    pytest.param(
        AM,
        lambda: _with(
            alertmanager_payload({"annotations": {"summary": "x", "note": "aBAD"}}),
            "BAD",
            "\\u0000",
        ),
        "alerts[0].annotations.note",
        id="nul-annotation",
    ),
    pytest.param(
        AM,
        lambda: _with(
            alertmanager_payload({"labels": {"alertname": "x", "zBAD": "1"}}), "BAD", "\\u0000"
        ),
        "alerts[0].labels",
        id="nul-label-name",
    ),
    pytest.param(
        AM,
        lambda: _with({**alertmanager_payload(), "extra": ["ok", "BAD"]}, "BAD", "\\u0000"),
        "extra[1]",
        id="nul-unknown-field",
    ),
    # NUL in the generic description reached incident_declare, whose RuleError was a 500.
    pytest.param(
        GENERIC_URL,
        lambda: _with({**GENERIC, "description": "aBAD"}, "BAD", "\\u0000"),
        "description",
        id="nul-generic-description",
    ),
]


@pytest.mark.usefixtures("nothing_written", "no_raise")
@pytest.mark.parametrize("url,body,field", UNSTORABLE)
def test_text_no_database_can_store_is_400_naming_the_field(
    post, alertmanager, generic, url, body, field
):
    token = alertmanager.token if url == AM else generic.token
    response = post(url, body(), token)
    assert response.status_code == 400
    (named,) = response.json()
    assert named.startswith(field)


# --- 3. a deeply nested payload is a 500 (the endpoint, the try box, the alert page) --------

DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.usefixtures("nothing_written", "no_raise")
def test_a_deeply_nested_body_is_400(post, alertmanager):
    response = post(AM, DEEP, alertmanager.token)
    assert response.status_code == 400 and list(response.json()) == ["body"]


@pytest.mark.usefixtures("nothing_written")
def test_the_try_box_refuses_a_deeply_nested_payload_as_a_form_error(admin_client, alertmanager):
    url = reverse("admin:incidents_integration_try", args=[alertmanager.integration.pk])
    response = admin_client.post(url, {"payload": DEEP})
    assert response.status_code == 200
    assert "Nested too deeply" in response.content.decode()


def test_the_alert_page_shows_a_payload_too_deep_to_indent():
    """What json.loads took may be too deep for the indenting (pure Python) encoder the
    alert page uses: the page said 500. It shows the value without indenting, or says so."""
    nested: list = []
    for _ in range(5000):
        nested = [nested]
    shown = pretty_json({"deep": nested})
    assert "too deeply" in shown
    assert pretty_json({"a": [1]}).startswith('<pre class="ir-json ir-wrap">')


# --- 4. with dedup_labels, the heartbeat alert never resolves -------------------------------


@pytest.mark.parametrize("kind", ["generic", "alertmanager"])
def test_a_heartbeat_alert_resolves_on_an_integration_that_dedups_on_labels(
    make_integration, catalog, make_user, kind
):
    """The raised alert is keyed by the integration's ``dedup_labels`` (not ``heartbeat``),
    so the next ping found no firing heartbeat alert and resolved nothing, ever."""
    integration, _ = make_integration(
        kind, name="nightly", service=catalog.payments, dedup_labels=["alertname", "instance"]
    )
    integration_set_heartbeat(
        integration=integration,
        every=timedelta(minutes=30),
        grace=timedelta(minutes=15),
        user=make_user("hb"),
        now=at(0),
    )
    assert heartbeats_check(now=at(50)) == 1
    assert heartbeats_check(now=at(51)) == 0
    assert Alert.objects.get().status == "firing"

    assert heartbeat_ping(integration=integration, now=at(60)) is True

    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.resolved_at == at(60)
    # And it raises again, once, when the pings stop again.
    assert heartbeats_check(now=at(60 + 46)) == 1
    assert Alert.objects.filter(status="firing").count() == 1


# --- 5. the try box says a Watchdog alert declares an incident; ingestion takes it as a ping -


WATCHDOG_ALERT = {
    "labels": {"alertname": "Watchdog", "severity": "none", "service": "payments"},
    "annotations": {"summary": "An alert that should always be firing."},
    "fingerprint": "watchdog-fp",
}


def test_the_try_box_says_a_watchdog_alert_is_a_heartbeat_ping(admin_client, alertmanager, post):
    integration = alertmanager.integration
    body = alertmanager_payload(WATCHDOG_ALERT, {})
    url = reverse("admin:incidents_integration_try", args=[integration.pk])

    response = admin_client.post(url, {"payload": json.dumps(body)})

    watchdog, probe = response.context["results"]
    assert watchdog.outcome == "heartbeat ping" and watchdog.incident is None
    assert probe.outcome == "new incident"
    # What ingestion does with it: a ping, no alert of its own.
    post(AM, body, alertmanager.token)
    assert list(Alert.objects.values_list("dedup_key", flat=True)) == ["1a30ba71cca2921f"]
    resolved = alertmanager_payload({**WATCHDOG_ALERT, "status": "resolved"})
    (result,) = admin_client.post(url, {"payload": json.dumps(resolved)}).context["results"]
    assert result.outcome == "ignored"


# --- 6. the derived events dedup key leaves out ``class``, which the README says it uses ----


def test_a_keyless_trigger_key_is_derived_from_its_class_too(events, post):
    """README: "A trigger without dedup_key gets one derived from its summary, source,
    component, group and class". Two events differing only in class were one alert."""
    answers = []
    for klass in ("disk", "cpu"):
        body = event_payload(events.token, dedup_key=None)
        body["payload"]["class"] = klass
        answers.append(post(EVENTS, body).json()["dedup_key"])
    assert answers[0] != answers[1]
    assert Alert.objects.count() == 2


# --- 7. a lone surrogate in the routing key is a 500 -----------------------------------------


@pytest.mark.usefixtures("nothing_written", "no_raise")
def test_a_routing_key_with_a_lone_surrogate_is_401(post, events):
    body = json.dumps(event_payload("KEY")).replace('"KEY"', '"\\ud800"')
    assert post(EVENTS, body).status_code == 401


# --- 8. an alert that began in a maintenance window and outlives it never declares ----------


def test_an_alert_still_firing_after_its_window_ends_declares(alertmanager, catalog, make_user):
    """A deploy's window ends with the service still broken: Alertmanager keeps re-sending
    the firing alert, and nobody is ever paged."""
    maintenance_window_create(
        service=catalog.payments, start=at(0), end=at(30), reason="Deploy", user=make_user("m")
    )
    firing = parse("alertmanager", alertmanager_payload(am_alert(1)))
    ingest(integration=alertmanager.integration, alerts=firing, now=at(10))
    assert not Incident.objects.exists()

    again = parse("alertmanager", alertmanager_payload(am_alert(1)))
    ingest(integration=alertmanager.integration, alerts=again, now=at(40))

    assert Incident.objects.count() == 1
    assert Alert.objects.get().incident == Incident.objects.get()


# --- 9. a chunked body (no Content-Length) is refused as "Send a JSON body" ----------------


@pytest.mark.usefixtures("nothing_written")
def test_a_chunked_post_is_411_naming_content_length(rf, alertmanager):
    from django.core.handlers.wsgi import WSGIRequest
    from django.test.client import FakePayload

    from incidents.alerts import api

    body = json.dumps(alertmanager_payload()).encode()
    environ = rf._base_environ(
        PATH_INFO=AM,
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        HTTP_AUTHORIZATION=f"Bearer {alertmanager.token}",
        **{"wsgi.input": FakePayload(body)},
    )
    environ.pop("CONTENT_LENGTH", None)
    response = api.alertmanager(WSGIRequest(environ))
    assert response.status_code == 411
    assert list(json.loads(response.content)) == ["Content-Length"]


# --- 10. an integration enabled again has its dead man's switch off ------------------------


def _change_data(integration, **changes) -> dict:
    data = {
        "name": integration.name,
        "enabled": "on",
        "service": integration.service_id or "",
        "severity": integration.severity_id or "",
        "dedup_labels": "",
        "group_window": "5m",
        "heartbeat_every": "30m",
        "heartbeat_grace": "15m",
        "rules-TOTAL_FORMS": "0",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_enabling_an_integration_again_expects_its_heartbeat_from_then(
    client, cast, make_integration, catalog, make_user
):
    """While disabled its pings are refused (403) and the reconciler stops expecting them
    (``heartbeat_due_at`` cleared); enabled again, it waited for a ping before expecting any,
    so a monitor that died meanwhile was never noticed."""
    now = timezone.now()
    integration, _ = make_integration("generic", name="nightly", service=catalog.payments)
    integration.rules.all().delete()
    integration_set_heartbeat(
        integration=integration,
        every=timedelta(minutes=30),
        grace=timedelta(minutes=15),
        user=make_user("hb"),
        now=now - timedelta(hours=2),
    )
    client.force_login(cast.manager)
    change = reverse("admin:incidents_integration_change", args=[integration.pk])
    assert client.post(change, _change_data(integration, enabled=None)).status_code == 302
    assert heartbeats_check(now=now) == 0  # disabled: nothing expected, nothing raised

    assert client.post(change, _change_data(integration)).status_code == 302

    integration.refresh_from_db()
    assert integration.enabled and integration.heartbeat_due_at is not None
    assert heartbeats_check(now=now + timedelta(minutes=30)) == 0  # from being enabled
    assert heartbeats_check(now=now + timedelta(minutes=50)) == 1


# --- 11. the alert's links are nowhere on the incident page ---------------------------------


def test_the_incident_page_shows_the_links_of_the_alert_that_declared_it(
    admin_client, alertmanager, post
):
    """Issue: "links (generatorURL, runbook_url annotation, links) on the incident". They were
    kept in the timeline entry's data and shown nowhere; only http(s) links become anchors."""
    body = alertmanager_payload()
    body["alerts"][0]["annotations"]["runbook_url"] = "javascript:alert(1)"
    body["alerts"].append(
        {**body["alerts"][0], "fingerprint": "second", "annotations": {"summary": "Two"}}
    )
    body["alerts"][1]["annotations"]["runbook_url"] = "https://runbooks.example.org/probe"
    post(AM, body, alertmanager.token)
    incident = Incident.objects.get()

    page = admin_client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))

    html = page.content.decode()
    assert 'href="http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0"' in html
    assert 'href="https://runbooks.example.org/probe"' in html
    assert 'href="javascript:' not in html
