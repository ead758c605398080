"""A small world for the template tests, built through the real services: the shipped
default policy (severities with their cadences, the default templates), three services (one
internal only), and an incident with roles, impact figures and a moving clock.

Internal facts carry marker strings (``MARK-...``) so a test can assert that none of them
reaches a customer template's output."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from incidents import services
from ircore import policy
from ircore.models import Profile, Service, Severity

POLICIES = Path(__file__).resolve().parents[2] / "policies"
T0 = datetime(2025, 3, 14, 10, 15, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def load_policy(name: str = "default.yaml") -> None:
    policy.import_policy(policy.load_policy_file(POLICIES / name))


def build(cast, *, severity: str = "SEV-2") -> SimpleNamespace:
    """The cast's manager declares at T0 + 3 minutes an incident detected at T0, on a public
    service (public name "Payments") and an internal one; a responder is IC (with a chat
    handle), the support agent is Communications Lead; impact figures are recorded."""
    load_policy()
    payments = Service.objects.create(
        name="Payments API", slug="payments-api", tier=1, public=True, public_name="Payments"
    )
    internal = Service.objects.create(name="MARK-Internal Ledger", slug="ledger", tier=3)
    cast.responder.first_name, cast.responder.last_name = "Rob", "MARK-Ross"
    cast.responder.save()
    Profile.objects.filter(user=cast.responder).update(chat_handle="@rob-mark")
    incident = services.incident_declare(
        title="Payment processing delays",
        severity=Severity.objects.get(key=severity),
        services=[payments, internal],
        summary="MARK-summary: a query plan changed on pay-db-3",
        detected_at=T0,
        impact_started_at=at(-5),
        user=cast.manager,
        now=at(3),
    )
    services.affected_service_set(
        incident=incident, service=payments, status="major_outage", user=cast.manager, now=at(4)
    )
    services.role_assign(
        incident=incident,
        role="ic",
        user=cast.responder,
        by=cast.manager,
        override_reason="test: certified elsewhere",
        now=at(4),
    )
    services.role_assign(
        incident=incident, role="comms_lead", user=cast.support, by=cast.manager, now=at(4)
    )
    services.incident_update(
        incident=incident,
        user=cast.manager,
        data={
            "customers_affected": 4321,
            "transactions_delayed": 27500,
            "transactions_failed": 12,
            "financial_impact": "98765.43",
        },
        now=at(6),
    )
    services.incident_set_status(
        incident=incident, status="investigating", user=cast.manager, now=at(5 + 2)
    )
    incident.refresh_from_db()
    return SimpleNamespace(
        cast=cast, incident=incident, payments=payments, internal=internal, **vars(cast)
    )


def resolve(world: SimpleNamespace, minutes: float = 55) -> None:
    services.incident_set_status(
        incident=world.incident, status="resolved", user=world.manager, now=at(minutes)
    )
    world.incident.refresh_from_db()
