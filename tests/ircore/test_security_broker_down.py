"""Defect 1 of issue 6: with the broker unreachable, an impact update that crosses a financial
threshold must answer normally and leave its deliveries queued for the beat reconciler.

Before the fix the after-commit hook was a ``functools.partial``: Django logs a failing robust
hook by ``__qualname__``, which a partial lacks, so the logging itself raised, the commit's
remaining hooks were skipped and the client got a 500 for work that was committed.

Real pieces throughout: the API through Django's test client, a real commit (transactional
test), and a Redis URL on a port where nothing listens, so the connection is refused.
"""

import logging
from decimal import Decimal

import pytest
from django.core import mail
from rest_framework.test import APIClient

from config.celery import app
from incidents.models import ThresholdCrossing
from ircore import notifications
from ircore.models import Delivery, FinancialThreshold
from tests.incidents import conftest as incidents_fixtures

# The incidents tests' policy, catalog and people (fixtures are found by name in this module).
severities = incidents_fixtures.severities
catalog = incidents_fixtures.catalog
people = incidents_fixtures.people
declare = incidents_fixtures.declare

UNREACHABLE = "redis://127.0.0.1:1/0"  # port 1: connection refused at once


def _use_broker(url: str, options: dict) -> None:
    """Point the Celery app at another broker. The app caches its pools; dropping them makes it
    look them up again for the new URL (kombu keeps one per broker, left open for reuse)."""
    app.conf.broker_url = url
    app.conf.broker_transport_options = options
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down(settings):
    saved = (app.conf.broker_url, dict(app.conf.broker_transport_options or {}))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # The options production uses with Redis (config/settings.py), whatever this run's broker.
    _use_broker(UNREACHABLE, settings.BROKER_REDIS_TRANSPORT_OPTIONS)
    yield
    _use_broker(*saved)


@pytest.fixture
def threshold(people, settings):
    settings.CHAT_WEBHOOK_URL = ""  # email only: one delivery per recipient
    cfo = FinancialThreshold.objects.create(
        amount=Decimal("1000"), audience="CFO", notify_emails="finance@example.com\n"
    )
    cfo.notify_users.add(people.manager)
    return cfo


@pytest.mark.django_db(transaction=True)
def test_threshold_crossing_answers_200_with_the_broker_down_and_the_reconciler_sends_later(
    broker_down,
    declare,
    people,
    catalog,
    threshold,
    caplog,
):
    incident = declare(services=[catalog.payments_api])
    client = APIClient(raise_request_exception=False)
    client.force_login(people.manager)

    with caplog.at_level(logging.WARNING, logger="ircore.notifications"):
        response = client.patch(
            f"/api/v1/incidents/{incident.reference}/",
            {"financial_impact": "5000"},
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json()["financial_impact"] == "5000.00"
    assert ThresholdCrossing.objects.filter(incident=incident, threshold=threshold).count() == 1
    rows = list(Delivery.objects.order_by("pk"))
    assert [(row.target, row.status, row.attempts) for row in rows] == [
        ("mia@example.com", Delivery.Status.QUEUED, 0),
        ("finance@example.com", Delivery.Status.QUEUED, 0),
    ]
    # Each delivery had its own hook, and the second still ran after the first one failed.
    refused = [r.getMessage() for r in caplog.records if "stays queued" in r.getMessage()]
    assert len(refused) == 2
    for row, message in zip(rows, refused, strict=True):
        assert f"Delivery {row.pk} stays queued for the reconciler" in message
        assert "127.0.0.1:1" in message  # the broker's own error, for whoever reads the log

    # The broker is still down; the beat reconciler sends them anyway (no broker needed).
    assert notifications.send_due() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["finance@example.com", "mia@example.com"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


@pytest.mark.django_db(transaction=True)
def test_retrying_a_failed_delivery_with_the_broker_down_requeues_it(broker_down, db, caplog):
    delivery = notifications.notify_email(address="ops@example.com", subject="s", body="")
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED)

    with caplog.at_level(logging.WARNING, logger="ircore.notifications"):
        delivery = notifications.retry_now(delivery=delivery)  # commits, then enqueues: refused

    assert delivery.status == Delivery.Status.QUEUED
    assert "Connection refused" in caplog.text
