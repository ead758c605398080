"""From resolution to the monthly report, clicked through the admin in a real browser: the
incident is resolved, its postmortem opens by itself, is written (a section, an action item)
and sent for review, an incident manager publishes it, the action item is done with its
evidence, and the monthly report counts it."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents import services as incidents
from incidents.models import Incident, RoleAssignment
from ircore import roles
from ircore.models import Profile, Service, Severity, Team
from postmortems.models import ActionItem, ActionItemDeadline, Postmortem

pytestmark = [pytest.mark.e2e]

SCREENSHOT = "/tmp/e2e-postmortem.png"


@pytest.fixture
def world(transactional_db, make_user):
    """Policy, people and an incident being investigated, committed for the live server."""
    sev2 = Severity.objects.create(
        key="SEV-2",
        rank=2,
        name="High",
        postmortem_required=True,
        postmortem_due=timedelta(hours=48),
    )
    for priority, days in (("p1", 7), ("p2", 14), ("p3", 30), ("p4", 90)):
        ActionItemDeadline.objects.create(priority=priority, days=days)
    payments = Team.objects.create(name="Payments", slug="payments")
    api = Service.objects.create(name="Payments API", slug="payments-api", team=payments)
    mia = make_user("mia", roles.INCIDENT_MANAGERS, first_name="Mia", last_name="Moss")
    cora = make_user("cora", roles.RESPONDERS, first_name="Cora", last_name="Chen")
    payments.members.add(cora)
    Profile.objects.filter(user=cora).update(
        ic_certified_on=timezone.localdate() - timedelta(days=90)
    )
    now = timezone.now()
    incident = incidents.incident_declare(
        title="Card payments failing",
        severity=sev2,
        services=[api],
        impact_started_at=now - timedelta(minutes=30),
        detected_at=now - timedelta(minutes=25),
        user=mia,
        now=now - timedelta(minutes=20),
    )
    incidents.role_assign(
        incident=incident,
        role=RoleAssignment.Role.INCIDENT_COMMANDER,
        user=cora,
        by=mia,
        now=now - timedelta(minutes=19),
    )
    incidents.incident_set_status(
        incident=incident,
        status=Incident.Status.INVESTIGATING,
        user=cora,
        now=now - timedelta(minutes=18),
    )
    return incident


def expect_message(page, text):
    expect(page.locator("ul.messagelist")).to_contain_text(text)


def log_in(page, username):
    page.context.clear_cookies()
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username.title())


def test_resolve_write_publish_and_find_the_action_item_in_the_monthly_report(page, world):
    incident = world
    reference = incident.reference

    # The incident commander resolves the incident from its page.
    log_in(page, "cora")
    page.goto(f"/admin/incidents/incident/{incident.pk}/change/")
    page.click(".ir-actions a.ir-move-resolved")
    page.fill("#id_note", "Secondary acquirer carrying traffic")
    page.click("input[name=_apply]")
    expect_message(page, f"{reference} moved from investigating to resolved.")

    # Its postmortem opened by itself, owned by the IC, due 48 hours after the resolution.
    pm = Postmortem.objects.get(incident=incident)
    incident.refresh_from_db()
    assert pm.owner.username == "cora" and pm.due_at == incident.resolved_at + timedelta(hours=48)
    page.goto("/admin/postmortems/postmortem/?mine=yes")
    page.click(f"text={reference}")
    expect(page.locator(".pm-status")).to_contain_text("Draft")
    # The incident's timeline is there to edit and star.
    expect(page.locator("#timeline-group")).to_contain_text("investigating → resolved")

    # Write it blamelessly, with an action item whose due date comes from the policy.
    summary = page.locator("#id_summary")
    assert "e.g." in summary.get_attribute("placeholder")
    summary.fill("Card payments failed for 20 minutes after the acquirer's TLS change.")
    page.fill("#id_root_cause", "Certificate rotation at the acquirer is not monitored.")
    page.click("text=Add another Action item")
    page.fill("#id_action_items-0-title", "Alert on acquirer certificate changes")
    page.select_option("#id_action_items-0-kind", "detect")
    page.select_option("#id_action_items-0-priority", "p1")
    page.click("input[name=_continue]")
    expect_message(page, "was changed successfully")
    item = ActionItem.objects.get()
    assert item.postmortem == pm and item.due_on == item.created_at.astimezone(
        UTC
    ).date() + timedelta(days=7)

    page.click("button:has-text('Send for review')")
    expect_message(page, "Sent for review.")
    expect(page.locator(".pm-status")).to_contain_text("In review")
    # The IC may not publish: the button is not there.
    expect(page.locator("button:has-text('Publish')")).to_have_count(0)

    # An incident manager publishes it; it reads as a document now.
    log_in(page, "mia")
    page.goto(f"/admin/postmortems/postmortem/{pm.pk}/change/")
    page.click("button:has-text('Publish')")
    expect_message(page, "Published. It is read-only now.")
    expect(page.locator(".pm-status")).to_contain_text("read-only until re-opened")
    expect(page.locator("#id_summary")).to_have_count(0)
    expect(page.locator(".field-summary_html")).to_contain_text("Card payments failed")
    page.screenshot(path=SCREENSHOT, full_page=True)

    # The action item is done, with its evidence (required).
    page.goto("/admin/postmortems/actionitem/?owner=none")
    page.click("text=Alert on acquirer certificate changes")
    page.select_option("#id_status", "done")
    page.click("input[name=_save]")
    expect(page.locator("#content-main")).to_contain_text("Document completion with evidence")
    page.select_option("#id_status", "done")
    page.fill(
        "#id_evidence", "Alert 'AcquirerCertChanged' fires in staging: https://grafana.example/d/42"
    )
    page.click("input[name=_save]")
    expect_message(page, "was changed successfully")

    # This month's report counts the postmortem on time and the completed action item.
    month = timezone.now().astimezone(UTC).strftime("%Y-%m")
    page.goto(f"/admin/postmortems/reportmailing/monthly/?month={month}")
    expect(page.locator("#figure-actions-completed")).to_have_text("1")
    expect(page.locator("#figure-actions-overdue")).to_have_text("0")

    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.PUBLISHED and pm.on_time
    assert ActionItem.objects.get().status == ActionItem.Status.DONE
