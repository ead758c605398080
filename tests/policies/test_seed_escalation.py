"""The ``escalation`` section of each policy file (``policies/*.yaml``), read through the real
importer into a fresh install: each step's delay, ``unless`` point, levels and target, as the
seed document states them (quoted next to each row; documents in ``/work/shared/seeds/``)."""

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from incidents.services import incident_change_severity, incident_declare
from ircore import policy
from ircore.models import NotificationEndpoint, Service, Severity, Team
from ircore.policy import registry
from oncall import policy as oncall_policy
from oncall.models import EscalationPolicy, Page
from oncall.services.escalation import (
    escalation_acknowledge,
    escalation_start,
    escalation_tick,
    escalation_update,
)

POLICIES = Path(__file__).resolve().parents[2] / "policies"
FILES = sorted(POLICIES.glob("*.yaml"))
m, h = timedelta(minutes=1), timedelta(hours=1)
ONCALL, VP, EXEC = "On-call engineers", "VP Engineering", "Executive team"
LEADS, CTO, CEO, DIRECTORS = "Engineering leads", "CTO", "CEO", "Directors"
LEAD, MANAGER = "team_lead", "team_manager"

# 000_*: "Escalation Matrix" and the SEV-1/SEV-2 headings and checklists.
FINTECH = [
    # "### SEV-1: Critical (Page immediately)"; SEV-2 "☐ Page on-call engineer"
    (0 * m, "acknowledged", ["SEV-1", "SEV-2"], ONCALL),
    # "☐ Page all engineering leads" (SEV-1), even when raised after an acknowledgement
    (0 * m, "resolved", ["SEV-1"], LEADS),
    # "No response from on-call after 5 minutes (SEV-1) -> On-call manager"
    (5 * m, "acknowledged", ["SEV-1"], MANAGER),
    # "Issue not identified after 15 minutes of investigation (SEV-2) -> Engineering manager"
    (15 * m, "identified", ["SEV-2"], MANAGER),
    # "Issue not resolved after 2 hours (SEV-1) or 4 hours (SEV-2) -> VP Engineering"
    (2 * h, "resolved", ["SEV-1"], VP),
    (4 * h, "resolved", ["SEV-2"], VP),
]
EXPECTED = {
    "fintech.yaml": FINTECH,
    # The default names no level, so a scheme switch replaces it freely: 000_*'s "SEV-3
    # (Create ticket, page if ongoing)" after its "1 hour to respond"; SEV-1 "Page
    # immediately" and SEV-2 "Page senior engineer" at once (``page_immediately``, below).
    "default.yaml": [(1 * h, "acknowledged", [], ONCALL)],
    # 001_*: "Escalation Matrix".
    "p0-p3.yaml": [
        # "P0 Incident: 0 min: On-call engineer paged" / "P1 Incident: 0 min: ..."
        (0 * m, "acknowledged", ["P0", "P1"], ONCALL),
        # "5 min: Engineering manager notified"
        (5 * m, "acknowledged", ["P0"], MANAGER),
        # "15 min: VP Engineering notified"
        (15 * m, "acknowledged", ["P0"], VP),
        # "30 min: Executive team notified"
        (30 * m, "acknowledged", ["P0"], EXEC),
        # P1: "30 min: Engineering manager notified"; "Escalation: Within 30 minutes if not
        # resolved"
        (30 * m, "resolved", ["P1"], MANAGER),
        # P1: "2 hours: VP Engineering notified"
        (2 * h, "resolved", ["P1"], VP),
        # P2: "Escalation: Within 4 hours if not resolved"; P3: "Escalation: Not required"
        (4 * h, "resolved", ["P2"], MANAGER),
    ],
    # 003_*: "Escalation Chain".
    "notification-service.yaml": [
        # "**Page on-call engineer** for P0/P1 incidents"
        (0 * m, "acknowledged", ["P0", "P1"], ONCALL),
        # "On-call engineer -> Team lead (30 minutes for P0, 2 hours for P1)"
        (30 * m, "resolved", ["P0"], LEAD),
        # "Team lead -> Engineering manager (1 hour for P0, 4 hours for P1)"
        (1 * h, "resolved", ["P0"], MANAGER),
        # "Engineering manager -> CTO (2 hours for P0, 8 hours for P1)"
        (2 * h, "resolved", ["P0"], CTO),
        # "CTO -> CEO (4 hours for P0, 24 hours for P1)"
        (4 * h, "resolved", ["P0"], CEO),
        (2 * h, "resolved", ["P1"], LEAD),
        (4 * h, "resolved", ["P1"], MANAGER),
        (8 * h, "resolved", ["P1"], CTO),
        (24 * h, "resolved", ["P1"], CEO),
    ],
    # 004_*: "5. Escalation Paths".
    "team-ownership.yaml": [
        # SEV-1 "Immediate (5 minutes)", SEV-2 "15 minutes": PagerDuty pages the on-call
        (0 * m, "acknowledged", ["SEV-1", "SEV-2"], ONCALL),
        # "SEV-1: Notify #exec-team immediately"
        (0 * m, "resolved", ["SEV-1"], EXEC),
        # "1. Team Lead (first 30 minutes)"
        (30 * m, "mitigated", ["SEV-1", "SEV-2"], LEAD),
        # "SEV-2: Notify VP Engineering within 30 minutes"
        (30 * m, "resolved", ["SEV-2"], VP),
        # "3. VP Engineering (if unresolved after 2 hours for SEV-1)"
        (2 * h, "resolved", ["SEV-1"], VP),
    ],
    # 002_*: "Escalation Procedures".
    "supply-chain-finance.yaml": [
        # "1. **Level 1**: On-call engineer"
        (0 * m, "acknowledged", ["SEV-1", "SEV-2"], ONCALL),
        # "1. **SEV-3**: Team Lead notification"
        (0 * m, "resolved", ["SEV-3"], LEAD),
        # "3. **SEV-1**: CTO/VP Engineering notification within 30 minutes"
        (30 * m, "resolved", ["SEV-1"], CTO),
        (30 * m, "resolved", ["SEV-1"], VP),
        # "2. **SEV-2**: Director notification within 1 hour"
        (1 * h, "resolved", ["SEV-2"], DIRECTORS),
    ],
}


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """The on-call sections, as the on-call AppConfig registers them."""
    monkeypatch.setattr(registry, "_SECTIONS", dict(registry._SECTIONS))
    oncall_policy.register()


def steps_of(name: str) -> list[tuple]:
    policy.import_policy(policy.load_policy_file(POLICIES / name))
    [only] = EscalationPolicy.objects.prefetch_related("steps__severities", "steps__endpoint")
    assert only.is_default and only.team_id is None and only.service_id is None
    assert (only.repeat_last, only.repeat_times) == (0, 0)
    rows = []
    for step in sorted(only.steps.all(), key=lambda s: s.position):
        target = step.endpoint.name if step.target == "endpoint" else step.target
        # Team targets name no team: the incident's service's team.
        assert step.team_id is None and step.user_id is None and step.layer_id is None
        keys = [s.key for s in sorted(step.severities.all(), key=lambda s: s.rank)]
        rows.append((step.delay, step.unless, keys, target))
    return rows


def test_the_default_pages_at_once_where_its_levels_say_so(db):
    steps_of("default.yaml")

    immediately = dict(Severity.objects.values_list("key", "page_immediately"))
    assert immediately == {"SEV-1": True, "SEV-2": True, "SEV-3": False, "SEV-4": False}


def test_every_file_has_its_matrix():
    assert set(EXPECTED) == {f.name for f in FILES}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_file_states_its_documents_matrix(db, name):
    assert steps_of(name) == EXPECTED[name]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_names_no_person_and_brings_its_e_mail_lists(db, path):
    document = policy.load_policy_file(path)
    assert "schedules" not in document  # a rotation needs the install's people and teams

    policy.import_policy(document)

    assert not policy.import_policy(policy.export_policy()).changed
    named = {row[3] for row in EXPECTED[path.name]} - {LEAD, MANAGER}
    endpoints = NotificationEndpoint.objects.filter(name__in=named)
    assert {e.name for e in endpoints} == named
    assert all(e.kind == "email" and e.target.endswith("@example.com") for e in endpoints)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_bootstraps_with_the_demo_on_top(db, settings, tmp_path, path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()

    call_command("bootstrap", "--policy", str(path), stdout=out)

    assert "escalation: 1 created" in out.getvalue()
    assert "Demo data: created" in out.getvalue()
    assert EscalationPolicy.objects.filter(is_default=True).count() == 1


# --- The files' matrices through the engine, time injected (a beat every 30 seconds) ---

D = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def payments(db, django_user_model):
    """A team with a manager and a lead, and its service: what team targets page."""
    manager = django_user_model.objects.create_user("manager", email="manager@example.com")
    lead = django_user_model.objects.create_user("lead", email="lead@example.com")
    team = Team.objects.create(name="Payments", slug="payments", manager=manager, lead=lead)
    return Service.objects.create(name="Payments API", slug="payments-api", team=team)


def declared(service, key: str):
    incident = incident_declare(
        title="Payments failing", severity=Severity.objects.get(key=key), services=[service], now=D
    )
    escalation_start(incident=incident, now=D)
    return incident


def run(until: float, start: float = 0) -> None:
    n = int(start * 2)
    while n / 2 <= until:
        escalation_tick(now=D + timedelta(minutes=n / 2))
        n += 1


def paged(incident) -> list[tuple[str, float]]:
    pages = Page.objects.filter(incident=incident).select_related("recipient", "endpoint")
    return [
        (
            p.recipient.username if p.recipient_id else p.endpoint.name,
            (p.paged_at - D).total_seconds() / 60,
        )
        for p in pages.order_by("paged_at", "step", "id")
    ]


def test_001_p0_climbs_on_time_unless_acknowledged(payments):
    policy.import_policy(policy.load_policy_file(POLICIES / "p0-p3.yaml"))
    incident = declared(payments, "P0")

    run(60)

    # "0 min: On-call engineer paged, 5 min: Engineering manager notified, 15 min: VP
    # Engineering notified, 30 min: Executive team notified"
    assert paged(incident) == [(ONCALL, 0), ("manager", 5), (VP, 15), (EXEC, 30)]
    assert Page.objects.get(endpoint__name=EXEC).delivery.target == "exec-team@example.com"


def test_001_p0_acknowledged_at_7_minutes_stops_the_climb(payments):
    policy.import_policy(policy.load_policy_file(POLICIES / "p0-p3.yaml"))
    incident = declared(payments, "P0")
    run(6.5)

    escalation_acknowledge(
        incident=incident, user=payments.team.manager, via="admin", now=D + timedelta(minutes=7)
    )
    run(60, start=7)

    assert paged(incident) == [(ONCALL, 0), ("manager", 5)]


def test_000_sev2_not_identified_then_raised_to_sev1_pages_the_leads(payments):
    policy.import_policy(policy.load_policy_file(POLICIES / "fintech.yaml"))
    incident = declared(payments, "SEV-2")
    run(20)
    # "Issue not identified after 15 minutes (SEV-2) -> Engineering manager"
    assert paged(incident) == [(ONCALL, 0), ("manager", 15)]

    # "SEV-1: page all engineering leads", at once when raised, though the SEV-2 pages
    # were not acknowledged; the SEV-1 manager step (5 min) is due too.
    incident_change_severity(
        incident=incident,
        severity=Severity.objects.get(key="SEV-1"),
        reason="Card payments down for everyone",
        user=payments.team.manager,
        now=D + timedelta(minutes=21),
    )
    escalation_update(incident=incident, now=D + timedelta(minutes=21))

    assert sorted(paged(incident)[2:]) == [(LEADS, 21), ("manager", 21)]
