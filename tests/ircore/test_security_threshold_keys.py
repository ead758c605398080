"""Defect 5 of issue 6: a valid threshold address of 150+ characters made the delivery's dedupe
key longer than its column, and every impact update was refused with an error about a
``dedupe_key`` field that the caller never sent. Now the key is stored as its digest."""

from decimal import Decimal

from rest_framework.test import APIClient

from incidents.models import ThresholdCrossing
from ircore.models import Delivery, FinancialThreshold
from tests.incidents import conftest as incidents_fixtures

severities = incidents_fixtures.severities
catalog = incidents_fixtures.catalog
people = incidents_fixtures.people
declare = incidents_fixtures.declare

LONG_ADDRESS = "finance-escalations-" + "a" * 40 + "@" + "b" * 60 + "." + "c" * 60 + ".example"


def test_a_long_threshold_address_is_notified_once_through_the_api(
    declare, people, catalog, settings
):
    settings.CHAT_WEBHOOK_URL = ""
    assert len(LONG_ADDRESS) > 150
    threshold = FinancialThreshold.objects.create(
        amount=Decimal("1000"), audience="Finance", notify_emails=f"{LONG_ADDRESS}\n"
    )
    threshold.full_clean()  # the address is one the threshold accepts
    incident = declare(services=[catalog.payments_api])
    client = APIClient()
    client.force_login(people.manager)

    response = client.patch(
        f"/api/v1/incidents/{incident.reference}/", {"financial_impact": "5000"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert ThresholdCrossing.objects.filter(incident=incident).count() == 1
    delivery = Delivery.objects.get()
    assert (delivery.target, delivery.status) == (LONG_ADDRESS, Delivery.Status.QUEUED)
    assert delivery.dedupe_key.startswith("sha256:")
