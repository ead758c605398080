"""The ``templates`` section of each policy file (``policies/*.yaml``), read through the real
importer into a fresh install and rendered for a real incident at the file's most severe
level: the kinds and audiences each seed document's messages have, and their wording (quoted
next to each assertion; documents in ``/work/shared/seeds/``). Documents without templates
(001_*, 002_*, 004_*) carry the default set, which is 000_*'s and 003_*'s."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import TestCase

from comms.models import Template
from comms.rendering import render
from incidents.services import affected_service_set, incident_declare, incident_set_status
from ircore import policy
from ircore.links import absolute_url
from ircore.models import Service, Severity

POLICIES = Path(__file__).resolve().parents[2] / "policies"
FILES = sorted(POLICIES.glob("*.yaml"))
T0 = datetime(2025, 3, 14, 10, 15, tzinfo=UTC)

# (name, kind, audience) per seed document.
FROM_000 = [
    # "Initial Incident Declaration", "Ongoing Updates", "Resolution Announcement"
    ("Incident declared", "declared", "internal"),
    ("Ongoing update", "status_update", "internal"),
    ("Incident resolved", "resolved", "internal"),
    # "Customer Notification": "Status page update", "After resolution", "Email to
    # affected customers (if needed)"
    ("Status page update", "status_page", "customers"),
    ("Status page resolved", "customer_resolution", "customers"),
    ("Update e-mail to affected customers", "post_incident_email", "customers"),
]
FROM_003 = [
    # "Communication Templates": "Initial Alert", "Status Update", "Resolution Notice"
    ("Initial alert", "declared", "internal"),
    ("Status update", "status_update", "internal"),
    ("Resolution notice", "resolved", "internal"),
    # "Customer Communication Templates": "Service Outage Notification", "Resolution
    # Notification"
    ("Service outage notification", "customer_outage", "customers"),
    ("Resolution notification", "customer_resolution", "customers"),
]
DEFAULT_SET = FROM_000 + FROM_003
EXPECTED = {
    "default.yaml": DEFAULT_SET,
    "fintech.yaml": FROM_000,
    "notification-service.yaml": FROM_003,
    # No templates in 001_* ("No communication templates"), 002_* or 004_*.
    "p0-p3.yaml": DEFAULT_SET,
    "supply-chain-finance.yaml": DEFAULT_SET,
    "team-ownership.yaml": DEFAULT_SET,
}


def test_every_policy_file_is_covered():
    assert sorted(EXPECTED) == [f.name for f in FILES]


def load(name: str):
    """Import the file; declare an incident at its most severe level on a public service
    ("Payments API", shown as "Payments"), investigating, detected at T0. The incident
    signals' receivers run as after a real commit, at the story's time: the update cadence
    plans the next updates."""
    with (
        time_machine.travel(T0 + timedelta(minutes=5), tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        return _declare(name)


def _declare(name: str):
    policy.import_policy(policy.load_policy_file(POLICIES / name))
    user = get_user_model().objects.create_user("ic-user", first_name="Maria", last_name="L")
    service = Service.objects.create(
        name="Payments API", slug="payments-api", public=True, public_name="Payments"
    )
    incident = incident_declare(
        title="Payment processing delays",
        severity=Severity.objects.order_by("rank").first(),
        services=[service],
        detected_at=T0,
        user=user,
        now=T0 + timedelta(minutes=3),
    )
    affected_service_set(
        incident=incident, service=service, status="major_outage", user=user, now=T0
    )
    incident_set_status(
        incident=incident, status="investigating", user=user, now=T0 + timedelta(minutes=5)
    )
    return incident, user


def rendered(name: str, incident, now=None):
    template = Template.objects.get(name=name)
    return render(template.subject, template.body, incident, now=now or T0 + timedelta(minutes=20))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_carries_its_documents_templates(db, path):
    incident, user = load(path.name)

    found = list(Template.objects.order_by("id").values_list("name", "kind", "audience"))
    assert found == EXPECTED[path.name]
    assert all(Template.objects.values_list("active", flat=True))
    # Every one renders for an open incident, and for the same incident once resolved.
    for name, *_ in found:
        assert rendered(name, incident).body
    incident_set_status(
        incident=incident, status="resolved", user=user, now=T0 + timedelta(minutes=55)
    )
    for name, *_ in found:
        assert rendered(name, incident, now=T0 + timedelta(hours=2)).body
    # And the exported section round-trips.
    assert not policy.import_policy(policy.export_policy()).changed


@pytest.mark.parametrize("name", ["fintech.yaml", "default.yaml"])
def test_000_wording(db, name):
    incident, user = load(name)  # SEV-1: internal updates every 15 minutes

    declared = rendered("Incident declared", incident)
    # "🚨 INCIDENT DECLARED: [SEVERITY] - [BRIEF DESCRIPTION]"
    assert declared.subject == "🚨 INCIDENT DECLARED: SEV-1 - Payment processing delays"
    # "- Affected customers: [#] out of [total]" (no figure recorded yet)
    assert "- Affected customers: [#] out of [total]\n" in declared.body
    # "**Services**: - 🔴 Service A (DOWN)"
    assert "**Services**:\n- 🔴 Payments API (MAJOR OUTAGE)\n" in declared.body
    # "- [Time]: Alert fired / Issue detected", "- [Time]: Incident declared"
    assert "- 2025-03-14 10:15 UTC: Alert fired / Issue detected\n" in declared.body
    assert "- 2025-03-14 10:18 UTC: Incident declared\n" in declared.body
    # "**Incident Lead**: @incident-commander" (none assigned yet)
    assert "**Incident Lead**: [not assigned yet]\n" in declared.body
    # "**Next update**: [TIME] (every 15 mins for SEV-1/2)"
    assert "**Next update**: 2025-03-14 10:33 UTC (every 15 minutes)\n" in declared.body
    assert declared.body.endswith("**Link to war room**: [Zoom/Teams link]")

    update = rendered("Ongoing update", incident)
    # "🔄 UPDATE: [INCIDENT TITLE]", "**Current Status**: [Investigating | ...]"
    assert update.subject == "🔄 UPDATE: Payment processing delays"
    assert update.body.startswith("**Current Status**: Investigating\n**Health**: Still degraded")
    assert "**Root cause hypothesis**:\n[What we think is happening]" in update.body
    assert "1. [Action 1] - ETC: [time]" in update.body

    incident_set_status(
        incident=incident, status="resolved", user=user, now=T0 + timedelta(minutes=55)
    )
    resolved = rendered("Incident resolved", incident)
    # "✅ INCIDENT RESOLVED: [INCIDENT TITLE]"; "**Duration**: [X minutes] from detection to
    # resolution"
    assert resolved.subject == "✅ INCIDENT RESOLVED: Payment processing delays"
    assert resolved.body.startswith("**Duration**: 55 minutes from detection to resolution")
    assert "- Transactions delayed/failed: [#]/[#]" in resolved.body
    assert resolved.body.endswith(
        "**Apology**: \"We sincerely apologize for the disruption. We're committed to "
        'preventing this in the future."'
    )

    # "✅ RESOLVED: Payment processing incident / The incident has been resolved. ..."
    after = rendered("Status page resolved", incident)
    assert after.subject == "✅ RESOLVED: Payment processing delays"
    assert after.body.startswith("The incident has been resolved. All transactions that were")
    # "Subject: Update on Payment Processing Incident"; "between 10:15 AM and 11:10 AM UTC"
    email = rendered("Update e-mail to affected customers", incident)
    assert email.subject == "Update on Payment processing delays"
    assert email.body.startswith(
        "We experienced a brief incident affecting Payments between\n"
        "2025-03-14 10:15 UTC and 2025-03-14 11:10 UTC."
    )
    assert email.body.endswith("Thank you for your patience and continued trust in our platform.")


def test_000_status_page_update(db):
    incident, _ = load("fintech.yaml")
    page = rendered("Status page update", incident, now=T0 + timedelta(minutes=10))
    # "🔴 INCIDENT: Payment processing delays affecting approximately 15% of transactions"
    assert page.subject == "🔴 INCIDENT: Payment processing delays"
    # "We are investigating payment processing delays. ..."; "Last updated: 10:45 AM UTC |
    # Next update: 11:00 AM UTC" (SEV-1 customers every 15 minutes)
    assert page.body.startswith("We are investigating payment processing delays.")
    assert page.body.endswith(
        "Last updated: 2025-03-14 10:25 UTC | Next update: 2025-03-14 10:33 UTC"
    )


@pytest.mark.parametrize("name", ["notification-service.yaml", "default.yaml"])
def test_003_wording(db, name):
    incident, user = load(name)

    alert = rendered("Initial alert", incident)
    # "🚨 INCIDENT ALERT / Severity: [P0/P1/P2/P3] / Systems Affected: [List] / ..."
    level = Severity.objects.order_by("rank").first().key
    assert alert.subject == "🚨 INCIDENT ALERT: Payment processing delays"
    assert alert.body == (
        f"Severity: {level}\n"
        "Systems Affected: Payments API\n"
        "Impact: [Brief description]\n"
        "Incident Commander: [Name]\n"
        "Status: Investigating\n"
        "ETA: [If known]"
    )
    update = rendered("Status update", incident)
    # "📊 INCIDENT UPDATE / Time: [Timestamp] / Status: [...]"
    assert update.body.startswith("Time: 2025-03-14 10:35 UTC\nStatus: Investigating\n")

    outage = rendered("Service outage notification", incident)
    # "Subject: [Service Status] Investigating Issues with [Service Name]"
    assert outage.subject == "[Service Status] Investigating Issues with Payments"
    assert outage.body.startswith(
        "We're currently investigating reports of issues with Payments.\n"
    )
    assert "Affected Services: Payments\nStarted: 2025-03-14 10:15 UTC\n" in outage.body
    if name == "notification-service.yaml":
        # P0: "We'll provide updates every 30 minutes."
        assert "\nWe'll provide updates every 30 minutes.\n" in outage.body
    assert f"Status Page: {absolute_url('/status/')}\n" in outage.body
    assert outage.body.endswith("- The Advancia Pay Ledger Team")

    incident_set_status(
        incident=incident, status="resolved", user=user, now=T0 + timedelta(minutes=55)
    )
    notice = rendered("Resolution notice", incident)
    # "✅ INCIDENT RESOLVED / Duration: [Total time] / Root Cause: [Brief explanation] ..."
    assert notice.body.startswith("Duration: 55 minutes\nRoot Cause: [Brief explanation]\n")
    resolution = rendered("Resolution notification", incident)
    # "Subject: [Service Status] Issues with [Service Name] Resolved"; "... have been resolved
    # as of [Time]."
    assert resolution.subject == "[Service Status] Issues with Payments Resolved"
    assert resolution.body.startswith(
        "The issues affecting Payments have been resolved as of 2025-03-14 11:10 UTC.\n"
    )
    assert "All services are now operating normally." in resolution.body
    assert resolution.body.endswith("Thank you for your patience.\n- The Advancia Pay Ledger Team")


@pytest.mark.parametrize("name", ["p0-p3.yaml", "supply-chain-finance.yaml", "team-ownership.yaml"])
def test_documents_without_templates_carry_the_default_set(name):
    default = policy.load_policy_file(POLICIES / "default.yaml")["templates"]
    assert policy.load_policy_file(POLICIES / name)["templates"] == default
    assert "carries the default set" in (POLICIES / name).read_text()
