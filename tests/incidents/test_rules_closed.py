"""What a closed incident accepts: notes only, one rule read from the verb table
(``Verb.on_closed`` in incidents/permissions.py) by every service."""

import dataclasses

import pytest
from django.forms.models import model_to_dict

from incidents import permissions, services
from incidents.models import Incident, TimelineEntry
from ircore.errors import ConflictError
from ircore.verbs import VERBS

from .conftest import at


@pytest.fixture
def closed(declare, catalog, people, security_type):
    """A security incident with two services, an SME and a checklist, resolved and closed."""
    incident = declare(
        services=[catalog.payments_api, catalog.webhooks], incident_type=security_type
    )
    services.role_assign(
        incident=incident, role="sme", user=people.responder, by=people.manager, now=at(1)
    )
    services.incident_set_status(incident=incident, status="resolved", user=None, now=at(2))
    services.incident_set_status(incident=incident, status="closed", user=None, now=at(3))
    incident.refresh_from_db()
    assert incident.is_closed
    return incident


def state(incident):
    fresh = Incident.objects.get(pk=incident.pk)
    return (
        model_to_dict(fresh),
        list(fresh.timeline.values_list("pk", flat=True)),
        fresh.history.count(),
        list(fresh.roles.values_list("user__username", "role", "relieved_at")),
        list(fresh.checklist.values_list("text", "done_at")),
        list(fresh.affected.values_list("service__slug", "status")),
    )


# Each verb a closed incident refuses, done the way its service does it (minute 10).
CASES = {
    "acknowledge": lambda i, c, p, s: services.incident_acknowledge(
        incident=i, user=p.manager, now=at(10)
    ),
    "move": lambda i, c, p, s: services.incident_set_status(
        incident=i, status="investigating", user=p.manager, now=at(10)
    ),
    "change_severity": lambda i, c, p, s: services.incident_change_severity(
        incident=i, severity=s.sev1, reason="worse", user=p.manager, now=at(10)
    ),
    "edit_details": lambda i, c, p, s: services.incident_update(
        incident=i, user=p.manager, data={"title": "Renamed"}, now=at(10)
    ),
    "edit_details:impact": lambda i, c, p, s: services.incident_update(
        incident=i, user=p.manager, data={"financial_impact": "5000"}, now=at(10)
    ),
    "edit_details:times": lambda i, c, p, s: services.incident_update(
        incident=i, user=p.manager, data={"acknowledged_at": at(1)}, now=at(10)
    ),
    "assign_role": lambda i, c, p, s: services.role_assign(
        incident=i, role="ic", user=p.certified, by=p.manager, now=at(10)
    ),
    "relieve_role": lambda i, c, p, s: services.role_relieve(
        assignment=i.roles.get(), by=p.manager, now=at(10)
    ),
    "tick": lambda i, c, p, s: services.checklist_tick(
        item=i.checklist.first(), user=p.manager, now=at(10)
    ),
    "set_service": lambda i, c, p, s: services.affected_service_set(
        incident=i, service=c.settlement, status="degraded", user=p.manager, now=at(10)
    ),
    "set_service:status": lambda i, c, p, s: services.affected_service_set(
        incident=i, service=c.payments_api, status="operational", user=p.manager, now=at(10)
    ),
    "remove_service": lambda i, c, p, s: services.affected_service_remove(
        incident=i, service=c.webhooks, user=p.manager, now=at(10)
    ),
    "mark_checkpoint": lambda i, c, p, s: services.security_checkpoint_mark(
        incident=i, checkpoint="evidence_preserved", user=p.manager, now=at(10)
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_closed_incident_refuses_everything_but_notes(closed, catalog, people, severities, case):
    before = state(closed)
    with pytest.raises(ConflictError) as refused:
        CASES[case](closed, catalog, people, severities)
    assert refused.value.field == "status"
    assert refused.value.message == (
        f"{closed.reference} is closed; a closed incident takes notes only."
    )
    assert state(closed) == before


def test_every_verb_a_closed_incident_refuses_is_tried_above():
    # A new incident verb must say what a closed incident does with it, and be tried here.
    refused_on_closed = {
        v.name
        for v in VERBS.values()
        if not v.on_closed and any(p.startswith("incidents.") for p in v.perms)
    }
    not_on_an_existing_incident = {permissions.DECLARE}
    through_assign = {permissions.OVERRIDE_IC_CERTIFICATION}
    tried = {case.split(":")[0] for case in CASES}
    assert refused_on_closed == tried | not_on_an_existing_incident | through_assign


def test_a_closed_incident_takes_notes(closed, people):
    entry = services.note_add(
        incident=closed, kind="note", text="Postmortem: PM-12", user=people.responder, now=at(10)
    )
    assert (entry.kind, entry.text, entry.occurred_at) == (
        TimelineEntry.Kind.NOTE,
        entry.text,
        at(10),
    )
    assert closed.timeline.last() == entry


def test_the_services_read_the_rule_from_the_verb_table(closed, people, monkeypatch):
    # Say in the table that a closed incident takes ticks, and the tick service takes it.
    tick = VERBS[permissions.TICK]
    monkeypatch.setitem(VERBS, permissions.TICK, dataclasses.replace(tick, on_closed=True))
    item = services.checklist_tick(item=closed.checklist.first(), user=people.manager, now=at(10))
    assert item.done_at == at(10)


def test_a_resolved_incident_still_takes_corrections(declare, people):
    # Only closing is final; a resolved incident is corrected before it is closed.
    incident = declare()
    services.incident_set_status(incident=incident, status="resolved", user=None, now=at(20))
    services.incident_update(
        incident=incident, user=people.manager, data={"financial_impact": "10"}, now=at(21)
    )
    services.checklist_tick(item=incident.checklist.first(), user=people.manager, now=at(22))
    incident.refresh_from_db()
    assert incident.financial_impact == 10


def test_saving_a_closed_incident_unchanged_is_not_an_error(closed, people):
    # The admin saves the change form with what it shows; nothing changed, nothing refused.
    services.incident_update(
        incident=closed, user=people.manager, data={"title": closed.title}, now=at(10)
    )
