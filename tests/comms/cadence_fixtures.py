"""Fixtures for the update cadence tests (``from .cadence_fixtures import *``): four
severities with the default policy's cadences (``policies/default.yaml``: internal updates
every 15 minutes at SEV-1/2 and 30 at SEV-3; customers every 15 at SEV-1, 30 at SEV-2, none
at SEV-3; SEV-4 none at all), a service, and helpers that declare and publish at minutes
after ``T0``.

Time is injected (``now=``), never slept on; the receivers run only in the tests that
capture on-commit callbacks, so elsewhere the tick is the path, as after a lost signal.
"""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from comms.models import Audience, Notice
from comms.services.cadence import update_sent
from incidents import services
from ircore.models import Service, Severity, Team

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
INTERNAL, CUSTOMERS = Audience.INTERNAL, Audience.CUSTOMERS


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def minutes(moment: datetime | None) -> float | None:
    """A moment as minutes after ``T0`` (what the tests' stories are told in)."""
    return None if moment is None else (moment - T0).total_seconds() / 60


@pytest.fixture
def cadences(db):
    def level(rank, internal, customers):
        return Severity.objects.create(
            key=f"SEV-{rank}",
            rank=rank,
            name=("Critical", "High", "Medium", "Low")[rank - 1],
            internal_update_every=timedelta(minutes=internal) if internal else None,
            customer_update_every=timedelta(minutes=customers) if customers else None,
        )

    return SimpleNamespace(
        sev1=level(1, 15, 15), sev2=level(2, 15, 30), sev3=level(3, 30, None), sev4=level(4, 0, 0)
    )


@pytest.fixture
def service(db):
    team = Team.objects.create(name="Payments", slug="payments")
    return Service.objects.create(name="Payments API", slug="payments-api", team=team)


@pytest.fixture
def declare(cadences, service, cast):
    """Declare ``minutes`` after ``T0`` (SEV-2 unless told) as the manager."""

    def make(minutes=0, severity=None, title="Card payments failing", **kwargs):
        return services.incident_declare(
            title=title,
            severity=severity or cadences.sev2,
            services=[service],
            user=kwargs.pop("user", cast.manager),
            now=at(minutes),
            **kwargs,
        )

    return make


@pytest.fixture
def publish(cast):
    """A notice to ``audience`` published ``minutes`` after ``T0``, counted as the notices'
    publish does it (``update_sent`` in the same transaction)."""

    def make(incident, audience=INTERNAL, minutes=0, call=True):
        notice = Notice.objects.create(
            incident=incident,
            audience=audience,
            subject=f"Update on {incident.reference}",
            body="We are investigating.",
            status=Notice.Status.PUBLISHED,
            created_by=cast.support,
            published_by=cast.manager,
            published_at=at(minutes),
        )
        if call:
            update_sent(notice, now=at(minutes))
        return notice

    return make
