"""The timeline is complete and ordered; responders add notes of the manual kinds only."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from incidents import services
from incidents.models import IncidentService, RoleAssignment, TimelineEntry
from ircore.errors import RuleError
from ircore.models import FinancialThreshold

from .conftest import T0, at

Kind = TimelineEntry.Kind
Role = RoleAssignment.Role


def test_a_whole_incident_leaves_exactly_the_expected_timeline(
    declare, severities, catalog, people, settings
):
    settings.CHAT_WEBHOOK_URL = ""
    FinancialThreshold.objects.create(amount=Decimal("1000"), audience="CFO")
    m, r = people.manager, people.responder

    incident = declare(severity=severities.sev3, services=[catalog.payments_api], user=m)
    services.incident_acknowledge(incident=incident, user=r, now=at(2))
    services.incident_set_status(incident=incident, status="investigating", user=r, now=at(3))
    services.incident_change_severity(
        incident=incident, severity=severities.sev1, reason="All cards fail", user=m, now=at(4)
    )
    services.role_assign(
        incident=incident, role=Role.INCIDENT_COMMANDER, user=people.certified, by=m, now=at(5)
    )
    services.role_assign(
        incident=incident, role=Role.INCIDENT_COMMANDER, user=people.certified_too, by=m, now=at(6)
    )
    item = incident.checklist.get(text="Page the incident commander")
    services.checklist_tick(item=item, user=people.certified_too, now=at(7))
    for minute, kind in enumerate(TimelineEntry.MANUAL_KINDS, start=8):
        services.note_add(
            incident=incident, kind=kind, text=f"a {kind}", user=r, occurred_at=at(minute)
        )
    services.incident_update(
        incident=incident, user=r, data={"financial_impact": "2500"}, now=at(12)
    )
    services.affected_service_set(
        incident=incident,
        service=catalog.payments_api,
        status=IncidentService.Status.MAJOR_OUTAGE,
        user=r,
        now=at(13),
    )
    services.incident_set_status(incident=incident, status="identified", user=r, now=at(14))
    services.incident_set_status(incident=incident, status="monitoring", user=r, now=at(15))
    services.incident_set_status(incident=incident, status="resolved", user=r, now=at(16))
    services.incident_set_status(incident=incident, status="closed", user=m, now=at(60))

    entries = list(incident.timeline.all())
    assert [e.kind for e in entries] == [
        Kind.DECLARED,
        Kind.ACKNOWLEDGEMENT,
        Kind.STATUS,
        Kind.SEVERITY,
        Kind.ROLE,
        Kind.ROLE,
        Kind.CHECKLIST,
        Kind.NOTE,
        Kind.HYPOTHESIS,
        Kind.ACTION,
        Kind.DECISION,
        Kind.IMPACT,
        Kind.THRESHOLD,
        Kind.SERVICE,
        Kind.STATUS,
        Kind.STATUS,
        Kind.STATUS,
        Kind.STATUS,
    ]
    times = [e.occurred_at for e in entries]
    assert times == sorted(times)
    assert [e.data.get("to") for e in entries if e.kind == Kind.STATUS] == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
        "closed",
    ]
    assert all(e.author is not None for e in entries if e.kind != Kind.THRESHOLD)


def test_entries_dated_earlier_sort_into_place(declare, people):
    incident = declare()
    services.note_add(
        incident=incident, kind="note", text="later", user=people.responder, occurred_at=at(10)
    )
    services.note_add(
        incident=incident,
        kind="note",
        text="backfilled",
        user=people.responder,
        occurred_at=at(-10),
    )
    assert list(incident.timeline.values_list("text", flat=True))[0] == "backfilled"


@pytest.mark.parametrize("kind", ["status", "declared", "threshold", "gossip"])
def test_note_add_refuses_other_kinds(declare, people, kind):
    incident = declare()
    with pytest.raises(RuleError) as refused:
        services.note_add(incident=incident, kind=kind, text="x", user=people.responder)
    assert refused.value.field == "kind"
    assert "note, hypothesis, action, decision" in refused.value.message
    assert incident.timeline.count() == 1


@pytest.mark.parametrize("text", ["", "   \n\t", None])
def test_note_add_refuses_empty_text(declare, people, text):
    incident = declare()
    with pytest.raises(RuleError) as refused:
        services.note_add(incident=incident, kind="note", text=text, user=people.responder)
    assert refused.value.field == "text"
    assert incident.timeline.count() == 1


def test_note_add_strips_text_and_refuses_future_dates(declare, people):
    incident = declare()
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        entry = services.note_add(
            incident=incident, kind="decision", text="  Fail over to EU-2  ", user=people.manager
        )
        assert (entry.text, entry.occurred_at, entry.author) == (
            "Fail over to EU-2",
            T0 + timedelta(minutes=30),
            people.manager,
        )
        with pytest.raises(RuleError) as refused:
            services.note_add(
                incident=incident,
                kind="note",
                text="from the future",
                user=people.manager,
                occurred_at=at(40),
            )
    assert refused.value.field == "occurred_at"
    assert incident.timeline.count() == 2


def test_timeline_add_refuses_unknown_kinds(declare):
    with pytest.raises(RuleError) as refused:
        services.timeline_add(incident=declare(), kind="gossip", text="x")
    assert refused.value.field == "kind"


def test_affected_service_changes_are_on_the_timeline(declare, catalog, people):
    incident = declare(services=[catalog.payments_api])
    services.affected_service_set(
        incident=incident,
        service=catalog.webhooks,
        status="partial_outage",
        user=people.responder,
        now=at(2),
    )
    services.affected_service_set(
        incident=incident,
        service=catalog.payments_api,
        status="major_outage",
        user=people.responder,
        now=at(3),
    )
    # Setting the status a service already has is not news.
    services.affected_service_set(
        incident=incident,
        service=catalog.payments_api,
        status="major_outage",
        user=people.responder,
        now=at(4),
    )
    services.affected_service_remove(
        incident=incident, service=catalog.webhooks, user=people.manager, now=at(5)
    )
    assert list(incident.timeline.filter(kind=Kind.SERVICE).values_list("text", flat=True)) == [
        "Rob added Webhooks (partial outage)",
        "Rob set Payments API: degraded performance → major outage",
        "Mia removed Webhooks",
    ]
    assert list(incident.affected.values_list("service__slug", "status")) == [
        ("payments-api", "major_outage")
    ]

    with pytest.raises(RuleError) as refused:
        services.affected_service_set(
            incident=incident, service=catalog.webhooks, status="on_fire", user=people.manager
        )
    assert refused.value.field == "status"
    with pytest.raises(RuleError) as refused:
        services.affected_service_remove(
            incident=incident, service=catalog.settlement, user=people.manager
        )
    assert refused.value.field == "service"
