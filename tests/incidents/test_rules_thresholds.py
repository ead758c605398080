"""A crossing's audience is told once (``ThresholdCrossing.notified_at``), the timeline says
"notified" only when somebody was, and says plainly when nobody could be."""

from decimal import Decimal

import pytest

from incidents import services
from incidents.models import ThresholdCrossing, TimelineEntry
from ircore.models import Delivery, FinancialThreshold

from .conftest import at


@pytest.fixture
def cfo(people, settings):
    settings.CHAT_WEBHOOK_URL = ""  # email only: one delivery row per person
    threshold = FinancialThreshold.objects.create(amount=Decimal("1000"), audience="CFO")
    threshold.notify_users.add(people.manager)
    return threshold


def update(incident, user, minute, **data):
    return services.incident_update(incident=incident, user=user, data=data, now=at(minute))


def threshold_texts(incident):
    entries = incident.timeline.filter(kind=TimelineEntry.Kind.THRESHOLD)
    return list(entries.values_list("text", flat=True))


def test_drill_real_drill_real_tells_the_audience_once(declare, people, cfo):
    incident = declare("Processor down (game day?)", is_drill=True)
    update(incident, people.responder, 5, financial_impact="5000")
    crossing = ThresholdCrossing.objects.get(incident=incident)
    assert crossing.notified_at is None

    update(incident, people.manager, 6, is_drill=False)
    crossing.refresh_from_db()
    assert crossing.notified_at == at(6)
    update(incident, people.manager, 7, is_drill=True)
    update(incident, people.manager, 8, is_drill=False)

    assert Delivery.objects.count() == 1
    crossing.refresh_from_db()
    assert crossing.notified_at == at(6)
    assert threshold_texts(incident) == [
        "Estimated impact 5,000.00 crossed 1,000: would notify CFO (drill: nobody notified)",
        "Estimated impact 5,000.00 crossed 1,000: notified CFO (mia)",
    ]


def test_a_real_crossing_is_marked_told_when_it_is_told(declare, people, cfo):
    incident = declare()
    update(incident, people.responder, 5, financial_impact="5000")
    assert ThresholdCrossing.objects.get(incident=incident).notified_at == at(5)


def test_a_threshold_without_recipients_says_nobody_was_notified(declare, people, settings):
    settings.CHAT_WEBHOOK_URL = ""
    FinancialThreshold.objects.create(amount=Decimal("100000"), audience="Finance team and CTO")
    incident = declare()
    update(incident, people.responder, 5, financial_impact="150000")

    assert threshold_texts(incident) == [
        "Estimated impact 150,000.00 crossed 100,000: nobody notified "
        '(threshold "Finance team and CTO" has no recipients configured)'
    ]
    assert Delivery.objects.count() == 0
    crossing = ThresholdCrossing.objects.get(incident=incident)
    assert crossing.notified_at is None  # nobody was told: not marked told

    # Flipping drill and back tells nobody either, and writes no second "nobody" entry.
    update(incident, people.manager, 6, is_drill=True)
    update(incident, people.manager, 7, is_drill=False)
    assert len(threshold_texts(incident)) == 1


def test_a_drill_crossing_with_no_recipients_turning_real_writes_nothing_more(
    declare, people, settings
):
    settings.CHAT_WEBHOOK_URL = ""
    FinancialThreshold.objects.create(amount=Decimal("1000"), audience="Board")
    incident = declare(is_drill=True)
    update(incident, people.responder, 5, financial_impact="5000")
    update(incident, people.manager, 6, is_drill=False)
    assert threshold_texts(incident) == [
        "Estimated impact 5,000.00 crossed 1,000: would notify Board (drill: nobody notified)"
    ]
