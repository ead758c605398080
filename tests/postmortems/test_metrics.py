"""``GET /metrics``: refused without the token, with a wrong one, and to everyone while no
METRICS_TOKEN is set; with it, the exposition parses with the client library's own parser
and every family says what the known state below says, in the same number of queries at
any size."""

import hmac
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from comms.models import UpdateDue
from incidents.alerts.models import Alert, Integration
from ircore.models import Delivery
from oncall.models import Escalation, Page, PageAttempt
from postmortems import metrics

from .test_report_history import NOW, history, make_history, paged, policy  # noqa: F401

URL = "/metrics"
TOKEN = "s3cret-metrics-token-0123456789"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def scrape(client, **headers):
    return client.get(URL, headers={"authorization": f"Bearer {TOKEN}", **headers})


def families(response) -> dict:
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        found[family.name] = family
    return found


def value(family, name=None, **labels) -> float:
    for sample in family.samples:
        if (name is None or sample.name == name) and all(
            sample.labels.get(k) == v for k, v in labels.items()
        ):
            return sample.value
    raise AssertionError(f"no sample {name} {labels} in {family.name}")


@pytest.mark.django_db
def test_without_a_configured_token_everyone_is_refused(client, settings):
    settings.METRICS_TOKEN = ""
    for headers in ({}, {"authorization": "Bearer "}, {"authorization": "Bearer anything"}):
        response = client.get(URL, headers=headers)
        assert response.status_code == 403
        assert "no METRICS_TOKEN set" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        f"Basic {TOKEN}",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN.upper()}",
        "Bearer ünïcode",
    ],
)
def test_a_missing_or_wrong_token_is_401(client, token, header):
    headers = {} if header is None else {"authorization": header}
    response = client.get(URL, headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"# TYPE" not in response.content


@pytest.mark.django_db
def test_the_token_is_compared_in_constant_time(client, token, monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(metrics.hmac, "compare_digest", spy)
    assert client.get(URL, headers={"authorization": "Bearer nope"}).status_code == 401
    assert scrape(client).status_code == 200
    assert calls == [(b"nope", TOKEN.encode()), (TOKEN.encode(), TOKEN.encode())]


@pytest.mark.django_db
def test_only_get(client, token):
    response = client.post(URL, headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405


@pytest.fixture
def machinery(history, paged):  # noqa: F811
    """Beside the history: two alerts (one firing with three repeats), a failed page and two
    page messages, a queued notification two minutes late, an escalation 90 s late, an
    internal update overdue (and a drill's, left out)."""
    integration = Integration.objects.create(
        name="Prom", slug="prom", kind=Integration.Kind.ALERTMANAGER, token_hash="x" * 64
    )
    Alert.objects.create(integration=integration, dedup_key="a", summary="a", repeat_count=3)
    Alert.objects.create(
        integration=integration, dedup_key="b", summary="b", status=Alert.Status.RESOLVED
    )
    failed = Page.objects.create(
        incident=history.m2,
        step=0,
        recipient=paged,
        due_at=NOW,
        paged_at=NOW,
        status=Page.Status.FAILED,
    )
    for status in (Delivery.Status.SENT, Delivery.Status.FAILED):
        delivery = Delivery.objects.create(
            channel="email", target="pat@example.com", subject="Page", body=".", status=status
        )
        PageAttempt.objects.create(page=failed, kind="email", delivery=delivery)
    Delivery.objects.create(
        channel="email",
        target="pat@example.com",
        subject="Later",
        body=".",
        next_attempt_at=NOW - timedelta(minutes=2),
    )
    Escalation.objects.create(incident=history.m3, next_escalation_at=NOW - timedelta(seconds=90))
    UpdateDue.objects.create(
        incident=history.m3,
        audience="internal",
        due_at=NOW - timedelta(hours=1),
        period=timedelta(minutes=30),
    )
    UpdateDue.objects.create(
        incident=history.d1,
        audience="customers",
        due_at=NOW - timedelta(hours=1),
        period=timedelta(minutes=30),
    )
    return history


def test_the_exposition_parses_and_says_what_happened(client, token, machinery):
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    found = families(response)
    p = "incident_response_"

    # Open: J1, F1, M3 (SEV-2), M4 (SEV-3), A1 (SEV-1); declared: all real ones.
    opened = found[p + "incidents_open"]
    assert [value(opened, severity=k) for k in ("SEV-1", "SEV-2", "SEV-3", "SEV-4")] == [
        1,
        3,
        1,
        0,
    ]
    declared = found[p + "incidents_declared"]
    assert declared.type == "counter"
    assert value(declared, severity="SEV-1") == 3  # M1, M2, A1; not the drill

    # Acknowledgement latency counts the last 30 days: March's incidents are older at NOW.
    ack = found[p + "acknowledgement_latency_seconds"]
    assert value(ack, p + "acknowledgement_latency_seconds_bucket", le="+Inf") == 0

    assert value(found[p + "alerts_received"]) == 5  # two alerts, three repeats
    assert value(found[p + "alerts_deduplicated"]) == 3
    assert value(found[p + "alerts_firing"]) == 1
    assert value(found[p + "pages_sent"]) == 3  # the drill's page is left out
    assert value(found[p + "pages_failed"]) == 1
    assert value(found[p + "page_messages"], result="failed") == 1
    assert value(found[p + "escalation_lag_seconds"]) == 90
    assert value(found[p + "escalations_due"]) == 1
    assert value(found[p + "deliveries_pending"], status="queued") == 1
    assert value(found[p + "deliveries_failed"]) == 1
    assert value(found[p + "delivery_lag_seconds"]) == 120
    assert value(found[p + "updates_overdue"], audience="internal") == 1
    assert value(found[p + "updates_overdue"], audience="customers") == 0  # the drill's
    assert value(found[p + "postmortems_overdue"]) == 2  # F1's and M3's, not the drill's
    assert value(found[p + "action_items_overdue"]) == 2


def test_acknowledgement_latency_of_the_last_30_days(client, token, history):  # noqa: F811
    # On 20 March the window holds M1 (600 s), M2 (1800 s) and M3 (300 s); the drill is out.
    with time_machine.travel(datetime(2025, 3, 20, 12, tzinfo=UTC), tick=False):
        found = families(scrape(client))
    name = "incident_response_acknowledgement_latency_seconds"
    ack = found[name]
    assert ack.type == "histogram"  # a gauge histogram, in the text format
    assert value(ack, f"{name}_bucket", le="60.0") == 0
    assert value(ack, f"{name}_bucket", le="300.0") == 1
    assert value(ack, f"{name}_bucket", le="900.0") == 2
    assert value(ack, f"{name}_bucket", le="1800.0") == 3
    assert value(ack, f"{name}_bucket", le="+Inf") == 3
    assert value(found[f"{name}_gcount"]) == 3
    assert value(found[f"{name}_gsum"]) == 2700


def test_an_empty_install_answers_zeros(client, token, db):
    found = families(scrape(client))
    assert value(found["incident_response_alerts_received"]) == 0
    assert value(found["incident_response_escalation_lag_seconds"]) == 0
    assert value(found["incident_response_acknowledgement_latency_seconds"], le="+Inf") == 0


def test_openmetrics_when_the_scraper_asks(client, token, db):
    response = scrape(client, accept="application/openmetrics-text; version=1.0.0")
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.decode().rstrip().endswith("# EOF")


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert scrape(client).status_code == 200
    return len(captured)


def test_a_scrape_costs_the_same_queries_at_any_size(
    client,
    token,
    policy,  # noqa: F811
    paged,  # noqa: F811
    django_assert_max_num_queries,
):
    make_history(policy.sev, policy.types, policy.services, user=paged)
    small = _queries(client)
    make_history(policy.sev, policy.types, policy.services, copies=4, user=paged)
    with django_assert_max_num_queries(small):
        assert scrape(client).status_code == 200
