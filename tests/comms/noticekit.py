"""What the notice tests build on (``from .noticekit import *`` brings the fixtures): a SEV-2
with internal and customer cadences, a security type that asks for legal review, two teams
with public and internal services, an incident declared on them through the incident
services, the cast of ``tests/conftest.py`` plus a legal reviewer and a second manager, and a
responder who is the incident's Communications Lead.

Time is injected (``now=``): ``T0`` is when the incident is declared.
"""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from comms.models import Audience, Notice
from comms.services import notices
from incidents import services as incident_services
from incidents.models import RoleAssignment
from ircore import roles
from ircore.models import IncidentType, Service, Severity, Team

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
INTERNAL, CUSTOMERS, EXECUTIVES = Audience.INTERNAL, Audience.CUSTOMERS, Audience.EXECUTIVES
Status = Notice.Status


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def world(cast, make_user):
    sev2 = Severity.objects.create(
        key="SEV-2",
        rank=2,
        name="High",
        internal_update_every=timedelta(minutes=15),
        customer_update_every=timedelta(minutes=30),
    )
    security = IncidentType.objects.create(
        key="security-breach",
        name="Security Breach",
        security_checkpoints=True,
        legal_review_required=True,
    )
    outage = IncidentType.objects.create(key="service-outage", name="Service Outage")
    payments = Team.objects.create(name="Payments", slug="payments", email="payments@example.com")
    platform = Team.objects.create(name="Platform", slug="platform")
    api = Service.objects.create(
        name="Payments API", slug="payments-api", team=payments, public=True, public_name="Payments"
    )
    ledger = Service.objects.create(name="Ledger DB", slug="ledger-db", team=payments)
    webhooks = Service.objects.create(name="Webhooks", slug="webhooks", team=platform, public=True)
    incident = incident_services.incident_declare(
        title="Card payments failing",
        severity=sev2,
        services=[api, ledger],
        incident_type=outage,
        user=cast.manager,
        now=T0,
    )
    other = incident_services.incident_declare(
        title="Webhooks delayed", severity=sev2, services=[webhooks], user=cast.manager, now=T0
    )
    lawyer = make_user("lara", roles.LEGAL_REVIEWERS, first_name="Lara", last_name="Law")
    manager2 = make_user("max", roles.INCIDENT_MANAGERS, first_name="Max", last_name="Marsh")
    lead = make_user("cleo", roles.RESPONDERS, first_name="Cleo", last_name="Lead")
    incident_services.role_assign(
        incident=incident,
        role=RoleAssignment.Role.COMMS_LEAD,
        user=lead,
        by=cast.manager,
        now=at(1),
    )
    # The responder of the cast leads the other incident's communications.
    incident_services.role_assign(
        incident=other,
        role=RoleAssignment.Role.COMMS_LEAD,
        user=cast.responder,
        by=cast.manager,
        now=at(1),
    )
    return SimpleNamespace(
        **vars(cast),
        sev2=sev2,
        security=security,
        outage=outage,
        payments=payments,
        platform=platform,
        api=api,
        ledger=ledger,
        webhooks=webhooks,
        incident=incident,
        other=other,
        lawyer=lawyer,
        manager2=manager2,
        lead=lead,
    )


def drafted(world, *, audience=CUSTOMERS, by=None, incident=None, minutes=5, **kwargs) -> Notice:
    return notices.draft(
        incident=incident or world.incident,
        user=by or world.support,
        audience=audience,
        subject=kwargs.pop("subject", "Card payments failing for some merchants"),
        body=kwargs.pop("body", "We are **investigating** failed card payments."),
        now=at(minutes),
        **kwargs,
    )


def submitted(world, **kwargs) -> Notice:
    notice = drafted(world, **kwargs)
    return notices.submit(notice=notice, user=notice.created_by, now=at(6))


def approved(world, **kwargs) -> Notice:
    notice = submitted(world, **kwargs)
    return notices.approve(notice=notice, user=world.manager, now=at(7))


__all__ = [
    "CUSTOMERS",
    "EXECUTIVES",
    "INTERNAL",
    "T0",
    "Status",
    "approved",
    "at",
    "drafted",
    "submitted",
    "world",
]
