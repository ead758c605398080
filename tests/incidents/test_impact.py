"""Impact figures and financial thresholds: each threshold's audience hears once per incident,
whatever the estimate does afterwards."""

from decimal import Decimal

import pytest

from incidents import services
from incidents.models import Incident, ThresholdCrossing, TimelineEntry
from ircore.errors import RuleError
from ircore.models import Delivery, FinancialThreshold

from .conftest import at


@pytest.fixture
def thresholds(people, settings):
    settings.CHAT_WEBHOOK_URL = ""  # email only, so each person is one delivery row
    cfo = FinancialThreshold.objects.create(amount=Decimal("1000"), audience="CFO")
    cfo.notify_users.add(people.manager)
    board = FinancialThreshold.objects.create(
        amount=Decimal("10000"),
        audience="Finance team",
        notify_emails="finance@example.com\n",
    )
    return cfo, board


def set_impact(incident, user, minute, **figures):
    return services.incident_update(incident=incident, user=user, data=figures, now=at(minute))


def counts(incident):
    return (
        ThresholdCrossing.objects.filter(incident=incident).count(),
        Delivery.objects.count(),
        incident.timeline.filter(kind=TimelineEntry.Kind.THRESHOLD).count(),
    )


def test_each_threshold_is_crossed_and_announced_once(declare, people, thresholds, settings):
    settings.SITE_URL = "http://testserver.example"
    cfo, board = thresholds
    incident = declare()

    set_impact(incident, people.responder, 5, financial_impact="5000")
    assert counts(incident) == (1, 1, 1)
    crossing = ThresholdCrossing.objects.get(incident=incident)
    assert (crossing.threshold, crossing.amount, crossing.crossed_at) == (
        cfo,
        Decimal("5000.00"),
        at(5),
    )
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.target, delivery.recipient) == (
        "email",
        "mia@example.com",
        people.manager,
    )
    assert delivery.topic == f"incidents.incident:{incident.pk}"
    assert "crossed 1,000" in delivery.subject
    assert incident.reference in delivery.subject
    # Every message links to the incident's page (defect 10).
    link = f"http://testserver.example/admin/incidents/incident/{incident.pk}/change/"
    assert delivery.payload["link"] == link

    set_impact(incident, people.responder, 10, financial_impact=Decimal("20000"))
    assert counts(incident) == (2, 2, 2)
    assert ThresholdCrossing.objects.get(threshold=board).amount == Decimal("20000.00")
    latest = Delivery.objects.exclude(pk=delivery.pk).get()
    assert (latest.target, latest.recipient) == ("finance@example.com", None)
    assert "crossed 10,000" in latest.subject

    # Same figure again, lower, higher again, much higher: nobody hears twice.
    for minute, amount in [(11, "20000"), (12, "500"), (13, "0"), (14, "20000"), (15, "90000")]:
        set_impact(incident, people.responder, minute, financial_impact=amount)
    assert counts(incident) == (2, 2, 2)
    texts = list(
        incident.timeline.filter(kind=TimelineEntry.Kind.THRESHOLD).values_list("text", flat=True)
    )
    assert texts == [
        "Estimated impact 5,000.00 crossed 1,000: notified CFO (mia)",
        "Estimated impact 20,000.00 crossed 10,000: notified Finance team (finance@example.com)",
    ]


def test_a_jump_past_both_thresholds_crosses_both_in_order(declare, people, thresholds):
    incident = declare()
    set_impact(incident, people.responder, 5, financial_impact="25000")
    assert counts(incident) == (2, 2, 2)
    entries = incident.timeline.filter(kind=TimelineEntry.Kind.THRESHOLD)
    assert [e.data["threshold"] for e in entries] == ["1000.00", "10000.00"]


def test_reaching_the_amount_exactly_crosses_it(declare, people, thresholds):
    incident = declare()
    set_impact(incident, people.responder, 5, financial_impact="999.99")
    assert counts(incident) == (0, 0, 0)
    set_impact(incident, people.responder, 6, financial_impact="1000")
    assert counts(incident) == (1, 1, 1)


def test_a_drill_records_the_crossing_but_notifies_nobody(declare, people, thresholds):
    drill = declare("Game day: processor down", is_drill=True)
    set_impact(drill, people.responder, 5, financial_impact="50000")
    assert ThresholdCrossing.objects.filter(incident=drill).count() == 2
    assert Delivery.objects.count() == 0
    texts = list(
        drill.timeline.filter(kind=TimelineEntry.Kind.THRESHOLD).values_list("text", flat=True)
    )
    assert len(texts) == 2
    assert all("drill: nobody notified" in text for text in texts)


def test_a_drill_that_turns_out_real_notifies_the_crossings_it_recorded(
    declare, people, thresholds
):
    incident = declare("Processor down (game day?)", is_drill=True)
    set_impact(incident, people.responder, 5, financial_impact="50000")
    assert Delivery.objects.count() == 0

    set_impact(incident, people.manager, 6, is_drill=False)

    assert ThresholdCrossing.objects.filter(incident=incident).count() == 2
    assert sorted(Delivery.objects.values_list("target", flat=True)) == [
        "finance@example.com",
        "mia@example.com",
    ]
    notified = incident.timeline.filter(
        kind=TimelineEntry.Kind.THRESHOLD, text__contains="notified CFO"
    )
    assert notified.count() == 1
    # Flipping it back and forth again tells nobody twice.
    set_impact(incident, people.manager, 7, is_drill=True)
    set_impact(incident, people.manager, 8, is_drill=False)
    assert Delivery.objects.count() == 2


def test_crossings_are_per_incident(declare, people, thresholds):
    first, second = declare("First"), declare("Second")
    set_impact(first, people.responder, 5, financial_impact="5000")
    set_impact(second, people.responder, 6, financial_impact="5000")
    assert ThresholdCrossing.objects.count() == 2
    assert Delivery.objects.count() == 2


def test_other_impact_figures_are_recorded_without_thresholds(declare, people, thresholds):
    incident = declare()
    set_impact(incident, people.responder, 5, customers_affected=1200, transactions_failed="340")
    incident.refresh_from_db()
    assert (incident.customers_affected, incident.transactions_failed) == (1200, 340)
    entry = incident.timeline.last()
    assert entry.kind == TimelineEntry.Kind.IMPACT
    assert entry.text == "Rob updated impact: customers affected 1200; transactions failed 340"
    assert counts(incident) == (0, 0, 0)


@pytest.mark.parametrize(
    ("figures", "field"),
    [
        ({"financial_impact": "-1"}, "financial_impact"),
        ({"financial_impact": "lots"}, "financial_impact"),
        ({"financial_impact": "NaN"}, "financial_impact"),
        ({"financial_impact": "Infinity"}, "financial_impact"),
        ({"financial_impact": "1e15"}, "financial_impact"),  # beyond the column's 14 digits
        ({"customers_affected": -3}, "customers_affected"),
        ({"customers_affected": "12.5"}, "customers_affected"),
        ({"transactions_delayed": True}, "transactions_delayed"),
    ],
)
def test_bad_figures_are_refused_and_save_nothing(declare, people, thresholds, figures, field):
    incident = declare()
    with pytest.raises(RuleError) as refused:
        set_impact(incident, people.responder, 5, **{"financial_impact": "5000", **figures})
    assert refused.value.field == field
    fresh = Incident.objects.get(pk=incident.pk)
    assert fresh.financial_impact is None
    assert counts(incident) == (0, 0, 0)
    assert incident.timeline.count() == 1
