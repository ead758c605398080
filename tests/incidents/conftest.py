"""Fixtures for the incidents tests: a small policy (SEV-1..SEV-3 with checklists, an outage
type and a security type with a 72-hour regulatory clock), a catalog (two teams, three
services), and people with and without a valid incident commander certification.

Time is pinned: ``T0`` is the moment every test declares at, and services take ``now=``.
"""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from incidents import services, signals
from ircore import roles
from ircore.models import ChecklistTemplateItem, IncidentType, Profile, Service, Severity, Team

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """``T0`` plus some minutes: the clock of a test's story."""
    return T0 + timedelta(minutes=minutes)


# Checklists per severity. SEV-1 shares two texts with SEV-2 and one with SEV-3, so raising
# a severity must add only the texts the incident does not have yet.
CHECKLISTS = {
    "SEV-1": [
        "Open the incident channel",
        "Page the incident commander",
        "Assign an executive sponsor",
        "Post a status page update",
    ],
    "SEV-2": [
        "Open the incident channel",
        "Page the incident commander",
        "Post a status page update",
    ],
    "SEV-3": ["Open the incident channel", "Create a ticket"],
}


@pytest.fixture
def severities(db):
    made = {}
    for rank, (key, texts) in enumerate(CHECKLISTS.items(), start=1):
        severity = Severity.objects.create(
            key=key,
            rank=rank,
            name=("Critical", "High", "Medium")[rank - 1],
            ack_target=timedelta(minutes=5 * rank),
        )
        ChecklistTemplateItem.objects.bulk_create(
            ChecklistTemplateItem(severity=severity, position=i, text=text)
            for i, text in enumerate(texts)
        )
        made[key] = severity
    return SimpleNamespace(sev1=made["SEV-1"], sev2=made["SEV-2"], sev3=made["SEV-3"])


@pytest.fixture
def security_type(db):
    return IncidentType.objects.create(
        key="security-breach",
        name="Security breach",
        regulatory_notification_hours=72,
        security_checkpoints=True,
    )


@pytest.fixture
def outage_type(db):
    return IncidentType.objects.create(key="service-outage", name="Service outage")


@pytest.fixture
def catalog(db):
    payments = Team.objects.create(name="Payments", slug="payments")
    platform = Team.objects.create(name="Platform", slug="platform")
    return SimpleNamespace(
        payments=payments,
        platform=platform,
        payments_api=Service.objects.create(
            name="Payments API", slug="payments-api", team=payments, tier=1
        ),
        settlement=Service.objects.create(name="Settlement", slug="settlement", team=payments),
        webhooks=Service.objects.create(name="Webhooks", slug="webhooks", team=platform),
    )


@pytest.fixture
def people(make_user, db):
    """Certified, uncertified and expired responders, an incident manager and a plain
    responder; certification is judged on ``T0``'s date."""

    def person(username, group, certified_on=None, expires=None):
        user = make_user(username, group, first_name=username.title())
        # A profile may already exist (created with the user); set its certification.
        Profile.objects.update_or_create(
            user=user,
            defaults={"ic_certified_on": certified_on, "ic_certification_expires": expires},
        )
        return user

    return SimpleNamespace(
        certified=person("cora", roles.RESPONDERS, date(2024, 1, 10), date(2026, 1, 10)),
        certified_too=person("carl", roles.RESPONDERS, date(2024, 6, 1), None),
        uncertified=person("uma", roles.RESPONDERS),
        expired=person("eli", roles.RESPONDERS, date(2023, 1, 1), date(2025, 3, 13)),
        manager=person("mia", roles.INCIDENT_MANAGERS),
        responder=person("rob", roles.RESPONDERS),
    )


@pytest.fixture
def declare(severities, people, request):
    """Declare an incident at ``T0`` (or ``now=``) as the manager, SEV-2 unless told, on the
    catalog's Payments API unless told (an incident needs at least one affected service)."""

    def make(title="Payments failing", **kwargs):
        kwargs.setdefault("severity", severities.sev2)
        kwargs.setdefault("user", people.manager)
        kwargs.setdefault("now", T0)
        if "services" not in kwargs:
            kwargs["services"] = [request.getfixturevalue("catalog").payments_api]
        return services.incident_declare(title=title, **kwargs)

    return make


SIGNALS = (
    "incident_declared",
    "incident_acknowledged",
    "incident_severity_changed",
    "incident_status_changed",
    "incident_resolved",
    "incident_closed",
)
# Announced by affected services, roles and impact (``events_log`` records these too).
MORE_SIGNALS = ("affected_service_changed", "role_assigned", "role_relieved", "impact_changed")


@pytest.fixture
def signal_log():
    """A real receiver on every incidents signal, recording (signal name, kwargs)."""
    log: list[tuple[str, dict]] = []
    receivers = []
    for name in SIGNALS:

        def receiver(sender, _name=name, **kwargs):
            kwargs.pop("signal", None)
            log.append((_name, kwargs))

        getattr(signals, name).connect(receiver, weak=False)
        receivers.append((name, receiver))
    yield log
    for name, receiver in receivers:
        getattr(signals, name).disconnect(receiver)


@pytest.fixture
def events_log():
    """Like ``signal_log``, on every incidents signal including the newer ones."""
    log: list[tuple[str, dict]] = []
    receivers = []
    for name in SIGNALS + MORE_SIGNALS:

        def receiver(sender, _name=name, **kwargs):
            kwargs.pop("signal", None)
            log.append((_name, kwargs))

        getattr(signals, name).connect(receiver, weak=False)
        receivers.append((name, receiver))
    yield log
    for name, receiver in receivers:
        getattr(signals, name).disconnect(receiver)
