"""One policy file per seed process (``policies/*.yaml``): each loads into a fresh install
(``bootstrap --policy FILE``) and round-trips, and each states the numbers of its document,
quoted next to the assertion that checks it (documents in ``/work/shared/seeds/``)."""

import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from incidents.models import Incident
from ircore import policy
from ircore.models import FinancialThreshold, IncidentType, Severity

POLICIES = Path(__file__).resolve().parents[2] / "policies"
FILES = sorted(POLICIES.glob("*.yaml"))
m, h, d = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def normalised(document: dict) -> dict:
    """A document with durations as timedeltas and amounts as Decimals, entries in a fixed
    order: what two files mean rather than how they spell it ("72h" is "3d")."""
    out = {}
    for name, entries in document.items():
        if name == "version":
            continue
        rows = []
        for entry in entries:
            entry = dict(entry)
            for field in policy.DURATION_FIELDS:
                if field in entry:
                    entry[field] = policy.parse_duration(entry[field])
            if "amount" in entry:
                entry["amount"] = Decimal(str(entry["amount"]))
            rows.append(entry)
        out[name] = sorted(rows, key=lambda e: str(e.get("key", e.get("amount"))))
    return out


def test_every_seed_process_has_its_file():
    assert {f.name for f in FILES} == {
        "default.yaml",
        "fintech.yaml",
        "p0-p3.yaml",
        "supply-chain-finance.yaml",
        "notification-service.yaml",
        "team-ownership.yaml",
    }


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_loads_into_a_fresh_install_and_round_trips(db, path):
    document = policy.load_policy_file(path)

    policy.import_policy(document)

    exported = policy.export_policy()
    mine = normalised(document)
    assert {k: v for k, v in normalised(exported).items() if k in mine} == mine
    assert not policy.import_policy(exported).changed


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_bootstraps_a_fresh_install(db, settings, tmp_path, path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()

    call_command("bootstrap", "--policy", str(path), stdout=out)

    assert f"Policy: loaded {path.name} (severities: 4 created" in out.getvalue()
    assert Severity.objects.count() == 4
    # The demo fits whatever the file calls its levels.
    assert "Demo data: created" in out.getvalue()
    # Three real incidents (the open one, the resolved one, the status page's past one);
    # the drills' demo adds a game day's drill incident.
    assert Incident.objects.real().count() == 3
    assert Incident.objects.filter(is_drill=True).count() == 1


def load(name: str):
    policy.import_policy(policy.load_policy_file(POLICIES / name))
    severities = {s.key: s for s in Severity.objects.prefetch_related("checklist")}
    types = {t.key: t for t in IncidentType.objects.all()}
    thresholds = list(FinancialThreshold.objects.values_list("amount", "audience"))
    return severities, types, thresholds


def checklist(sev: Severity) -> list[str]:
    return [item.text for item in sorted(sev.checklist.all(), key=lambda i: i.position)]


# --- 000_*: Ubiquitous Tribble Fintech Platform ---


def test_fintech(db):
    sev, types, thresholds = load("fintech.yaml")
    s1, s2, s3, s4 = (sev[k] for k in ("SEV-1", "SEV-2", "SEV-3", "SEV-4"))
    # "**Response Time**: 5 minutes to declare incident, have lead on call"
    assert s1.ack_target == 5 * m
    # "**Expected Resolution**: < 1 hour"
    assert s1.resolve_target == h
    # "**Customer Communication**: Every 15 minutes"
    assert s1.customer_update_every == 15 * m
    # "### SEV-1: Critical (Page immediately)"
    assert s1.page_immediately
    # "### Executive Sponsor (for SEV-1 only)"
    assert s1.executive_sponsor_required and not s2.executive_sponsor_required
    # "**Response Time**: 15 minutes to declare incident" / "**Expected Resolution**: < 4 hours"
    assert (s2.ack_target, s2.resolve_target) == (15 * m, 4 * h)
    # "**Customer Communication**: Every 30 minutes"
    assert s2.customer_update_every == 30 * m
    # "**Response Time**: 1 hour to respond" / "**Expected Resolution**: < 8 hours"
    assert (s3.ack_target, s3.resolve_target) == (h, 8 * h)
    # "**Customer Communication**: Update ticket with progress" (no cadence)
    assert s3.customer_update_every is None
    # "**Response Time**: Next business day" / "**Expected Resolution**: < 5 days"
    assert (s4.ack_target, s4.resolve_target) == (24 * h, 5 * d)
    # "### Ongoing Updates (every 15 minutes for SEV-1/2, every 30 mins for SEV-3)"
    assert [s.internal_update_every for s in (s1, s2, s3)] == [15 * m, 15 * m, 30 * m]
    # "- **SEV-1**: Review within 24 hours" / "- **SEV-2**: Review within 48 hours"
    # "- **SEV-3**: Review within 1 week" / "- **SEV-4**: Optional, if systematic issue"
    assert [s.postmortem_due for s in (s1, s2, s3, s4)] == [24 * h, 48 * h, 7 * d, None]
    assert not s4.postmortem_required
    # "SEV-1 CHECKLIST: ☐ Declare incident in #incidents Slack channel ..." (7 lines)
    assert checklist(s1)[0] == "Declare incident in #incidents Slack channel"
    assert [len(checklist(s)) for s in (s1, s2, s3, s4)] == [7, 8, 5, 4]
    # "Performance degradation >30% from baseline" (Scope)
    assert "30%" in types["performance-degradation"].description
    assert types["security-breach"].security_checkpoints
    # "Financial impact >$100K            → CFO"
    assert thresholds == [(Decimal(100000), "CFO (and the CEO as executive sponsor)")]


def test_default_adds_the_fintech_cfo_at_100k(db):
    _, _, thresholds = load("default.yaml")
    # 003_*: "**$100K+ impact**: CEO and board immediate notification";
    # 000_*: "Financial impact >$100K            → CFO"
    assert thresholds[-1] == (Decimal(100000), "CEO, CFO and board (immediate notification)")


# --- 001_*: Incident Response Procedures (P0..P3) ---


def test_p0_p3(db):
    sev, types, thresholds = load("p0-p3.yaml")
    p0, p1, p2, p3 = (sev[k] for k in ("P0", "P1", "P2", "P3"))
    # "Response time: Immediate"; "Respond to pages within 5 minutes"
    assert p0.ack_target == 5 * m
    # "Response time: 15 minutes" / "1 hour" / "Next business day"
    assert (p1.ack_target, p2.ack_target, p3.ack_target) == (15 * m, h, 24 * h)
    # "P0 Incident: ├─ 0 min:  On-call engineer paged"
    # "P1 Incident: ├─ 0 min:  On-call engineer paged"
    assert p0.page_immediately and p1.page_immediately
    assert not p2.page_immediately and not p3.page_immediately
    # "├─ 5 min:  Engineering manager notified", "├─ 15 min: VP Engineering notified",
    # "├─ 30 min: Executive team notified"
    assert "engineering manager 5m, VP Engineering 15m, executive team 30m" in p0.who_is_paged
    # "├─ 30 min: Engineering manager notified", "├─ 2 hours: VP Engineering notified"
    assert "engineering manager within 30m" in p1.who_is_paged and "2h" in p1.who_is_paged
    # "└─ 1 hour: Customer communication required"
    assert "Customer communication (required within 1 hour)" in checklist(p0)
    # "└─ 4 hours: Customer communication if needed"
    assert "Customer communication if needed (within 4 hours)" in checklist(p1)
    # "Incident commander assigned (for P0/P1)"
    assert "Incident commander assigned" in checklist(p1)
    assert "Incident commander assigned" not in checklist(p2)
    # "Post-mortem meeting (within 48 hours)"
    assert p0.postmortem_due == 48 * h
    # "#### Incident Types" (six)
    assert set(types) == {
        "service-outage",
        "performance-degradation",
        "data-loss-or-corruption",
        "security-breach",
        "integration-failure",
        "data-privacy-incident",
    }
    # "#### GDPR Requirements (if applicable)" (GDPR Art. 33: 72 hours)
    assert types["data-privacy-incident"].regulatory_notification_hours == 72
    assert thresholds == []  # the file has no thresholds section: 001_* sets none


# --- 002_*: Supply Chain Finance Platform ---


def test_supply_chain_finance(db):
    sev, types, thresholds = load("supply-chain-finance.yaml")
    s1, s2, s3, s4 = (sev[k] for k in ("SEV-1", "SEV-2", "SEV-3", "SEV-4"))
    # "Response time: 15 minutes" / "30 minutes" / "2 hours" / "24 hours"
    assert [s.ack_target for s in (s1, s2, s3, s4)] == [15 * m, 30 * m, 2 * h, 24 * h]
    # "**Status Updates**: Every 30 minutes for SEV-1, hourly for SEV-2"
    assert [s.internal_update_every for s in (s1, s2, s3, s4)] == [30 * m, h, None, None]
    # "All SEV-1 and SEV-2 incidents require a post-mortem within 48 hours of resolution."
    assert [s.postmortem_required for s in (s1, s2, s3, s4)] == [True, True, False, False]
    assert [s.postmortem_due for s in (s1, s2, s3, s4)] == [48 * h, 48 * h, None, None]
    # "3. **SEV-1**: CTO/VP Engineering notification within 30 minutes"
    assert "CTO/VP Engineering notified within 30 minutes" in s1.who_is_paged
    assert "Notify CTO/VP Engineering within 30 minutes" in checklist(s1)
    # "2. **SEV-2**: Director notification within 1 hour"
    assert "Notify the Director within 1 hour" in checklist(s2)
    # "1. **SEV-3**: Team Lead notification"
    assert "Notify the Team Lead" in checklist(s3)
    # "**Stakeholders**: Regular executive briefings for SEV-1 incidents"
    assert "Brief executives regularly" in checklist(s1)
    # "Assign roles (IC, Communication Lead, Technical Lead)"
    assert "Assign roles (IC, Communication Lead, Technical Lead)" in checklist(s1)
    # "- Platform-wide outage" ... "- Financial transaction failures"
    assert s1.examples.splitlines()[-1] == "Financial transaction failures"
    # "## Common Incident Scenarios": four; the security one preserves evidence and
    # changes credentials ("2. Preserve evidence", "3. Change compromised credentials")
    assert {t.name for t in types.values()} == {
        "Service Outage",
        "Performance Degradation",
        "Security Incident",
        "Data Integrity Issue",
    }
    assert types["security-breach"].security_checkpoints
    assert thresholds == []


# --- 003_*: Notification Preferences project (P0..P3) ---


def test_notification_service(db):
    sev, types, thresholds = load("notification-service.yaml")
    p0, p1, p2, p3 = (sev[k] for k in ("P0", "P1", "P2", "P3"))
    # "**Response time**: 15 minutes acknowledgment, 1 hour initial response"
    assert p0.ack_target == 15 * m and "Initial response within 1 hour" in checklist(p0)
    # "**Response time**: 1 hour acknowledgment, 4 hours initial response"
    assert p1.ack_target == h and "Initial response within 4 hours" in checklist(p1)
    # "**Response time**: 4 hours acknowledgment, 24 hours initial response"
    assert p2.ack_target == 4 * h and "Initial response within 24 hours" in checklist(p2)
    # "**Response time**: 24 hours acknowledgment, next sprint planning"
    assert p3.ack_target == 24 * h and "Plan it at the next sprint planning" in checklist(p3)
    # "3. **Page on-call engineer** for P0/P1 incidents"
    assert [s.page_immediately for s in (p0, p1, p2, p3)] == [True, True, False, False]
    # "4. **Update stakeholders** every 30 minutes for P0/P1"
    assert [s.internal_update_every for s in (p0, p1, p2, p3)] == [30 * m, 30 * m, None, None]
    # "We'll provide updates every 30 minutes." (Service Outage Notification)
    assert p0.customer_update_every == 30 * m
    # "- **Schedule**: Within 72 hours of resolution"
    assert [s.postmortem_due for s in (p0, p1, p2)] == [72 * h] * 3
    # "1. **On-call engineer** → **Team lead** (30 minutes for P0, 2 hours for P1)" ...
    # "4. **CTO** → **CEO** (4 hours for P0, 24 hours for P1)"
    assert p0.who_is_paged.endswith(
        "team lead at 30m, engineering manager at 1h, CTO at 2h, CEO at 4h"
    )
    assert p1.who_is_paged.endswith(
        "team lead at 2h, engineering manager at 4h, CTO at 8h, CEO at 24h"
    )
    # "2. **Create incident channel** in Slack (#incident-YYYY-MM-DD-###)"
    assert "Create incident channel in Slack (#incident-YYYY-MM-DD-###)" in checklist(p0)
    # "- **Notify affected users** within 72 hours if data breach confirmed"
    assert types["data-privacy-incident"].regulatory_notification_hours == 72
    # "- **Revoke compromised credentials** immediately", "- **Preserve forensic evidence**"
    assert types["security-breach"].security_checkpoints
    # "### Financial Escalation Thresholds": six amounts and their audiences
    assert thresholds == [
        (
            Decimal(1000),
            "Team lead (notify and document)",
        ),  # "**$1K impact**: Notify team lead and document"
        (Decimal(5000), "Engineering manager"),  # "**$5K impact**: Notify engineering manager"
        (Decimal(10000), "Finance team and CTO"),  # "**$10K impact**: Notify finance team and CTO"
        (Decimal(25000), "Executive team"),  # "**$25K impact**: Notify executive team"
        # "**$50K+ impact**: Board notification required within 4 hours"
        (Decimal(50000), "Board (notification required within 4 hours)"),
        # "**$100K+ impact**: CEO and board immediate notification"
        (Decimal(100000), "CEO and board (immediate notification)"),
    ]


# --- 004_*: TechCorp, team-based ownership ---


def test_team_ownership(db):
    sev, types, thresholds = load("team-ownership.yaml")
    s1, s2, s3, s4 = (sev[k] for k in ("SEV-1", "SEV-2", "SEV-3", "SEV-4"))
    # "Response time: **Immediate** (5 minutes)" / "**15 minutes**" / "**Within 1 hour**"
    # / "**Next business day**"
    assert [s.ack_target for s in (s1, s2, s3, s4)] == [5 * m, 15 * m, h, 24 * h]
    # "**MTTR** (Mean Time To Resolve): Target <2 hours for SEV-1"
    assert s1.resolve_target == 2 * h
    # "Required participants: On-call engineer, Team Lead, VP Engineering"
    assert s1.who_is_paged.startswith("On-call engineer, Team Lead, VP Engineering")
    # "Required participants: On-call engineer, Team Lead" / "On-call engineer"
    assert s2.who_is_paged.startswith("On-call engineer, Team Lead;")
    assert s3.who_is_paged == "On-call engineer"
    # "Communicate status updates every 30 minutes for SEV-1/SEV-2"
    assert [s.internal_update_every for s in (s1, s2, s3, s4)] == [30 * m, 30 * m, None, None]
    # "### Step 5: Postmortem (SEV-1 and SEV-2 only)" / "Create postmortem within 48 hours"
    assert [s.postmortem_required for s in (s1, s2, s3, s4)] == [True, True, False, False]
    assert [s.postmortem_due for s in (s1, s2)] == [48 * h, 48 * h]
    # "- SEV-1: Notify #exec-team immediately"
    assert "Notify #exec-team immediately" in checklist(s1)
    # "- SEV-2: Notify VP Engineering within 30 minutes"
    assert "Notify VP Engineering within 30 minutes" in checklist(s2)
    # "Post status update within 10 minutes"; "Monitor for 30 minutes post-fix"
    assert {"Post status update within 10 minutes", "Monitor for 30 minutes post-fix"} <= set(
        checklist(s3)
    )
    # "- **Zoom**: War rooms for SEV-1 incidents"
    assert "Open a Zoom war room" in checklist(s1)
    assert "Open a Zoom war room" not in checklist(s2)
    # The process names no incident types and no financial thresholds.
    assert types == {} and thresholds == []
