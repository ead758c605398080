"""One incident from declaration to resolution, clicked through the admin in a real browser:
declare, assign the IC, tick a checklist item, write a decision, investigate, resolve; then
the incident page's timeline must tell every step."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.models import Incident
from ircore import roles
from ircore.models import ChecklistTemplateItem, Profile, Service, Severity, Team

pytestmark = [pytest.mark.e2e]

SCREENSHOT = "/tmp/e2e-incident.png"


@pytest.fixture
def world(transactional_db, make_user):
    """Policy and people, committed so the live server's thread sees them."""
    sev1 = Severity.objects.create(key="SEV-1", rank=1, name="Critical", colour="#d32f2f")
    sev2 = Severity.objects.create(key="SEV-2", rank=2, name="Major", colour="#f57c00")
    for severity, texts in (
        (sev1, ["Open the incident channel", "Page the IC", "Assign an executive sponsor"]),
        (sev2, ["Open the incident channel", "Page the IC", "Post a status page update"]),
    ):
        for position, text in enumerate(texts):
            ChecklistTemplateItem.objects.create(severity=severity, position=position, text=text)
    payments = Team.objects.create(name="Payments", slug="payments")
    Service.objects.create(name="Payments API", slug="payments-api", team=payments)
    Service.objects.create(name="Webhooks", slug="webhooks", team=payments)
    manager = make_user("mia", roles.INCIDENT_MANAGERS, first_name="Mia", last_name="Moss")
    cora = make_user("cora", roles.RESPONDERS, first_name="Cora", last_name="Chen")
    Profile.objects.filter(user=cora).update(
        ic_certified_on=timezone.localdate() - timedelta(days=90)
    )
    return manager


def expect_message(page, text):
    expect(page.locator("ul.messagelist")).to_contain_text(text)


def test_declare_assign_tick_note_resolve_and_read_the_timeline(page, world):
    # Log in as the incident manager.
    page.goto("/admin/login/?next=/admin/incidents/incident/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "pw-mia")
    page.click("input[type=submit]")
    expect(page.locator("#content h1")).to_contain_text("incident")

    # Declare from the list's button.
    page.click("text=Declare incident")
    page.fill("#id_title", "Card payments failing")
    page.locator("label", has_text="SEV-2").locator("input").check()
    page.locator("label", has_text="Payments API").locator("input").check()
    page.fill("#id_summary", "Checkout declines every card since 09:40.")
    page.click("input[name=_declare]")
    expect_message(page, "Declared INC-")
    incident = Incident.objects.get()
    reference = incident.reference
    expect(page.locator(".ir-essentials .ir-ref")).to_have_text(reference)
    expect(page.locator(".ir-checklist-count")).to_have_text("0/3")

    # Assign a certified incident commander.
    page.locator(".ir-essentials a", has_text="assign").first.click()
    page.select_option("#id_role", "ic")
    page.select_option("#id_user", label="Cora Chen (cora) · IC certified")
    page.click("input[name=_apply]")
    expect_message(page, f"Cora Chen is now Incident Commander on {reference}.")

    # Tick the first checklist item with its checkbox and save the page.
    page.check("input[name='checklist-0-done']")
    page.click("input[name=_continue]")
    expect_message(page, "was changed successfully")
    expect(page.locator(".ir-checklist-count")).to_have_text("1/3")

    # Write a decision on the timeline from the page's note form.
    page.select_option("#note_kind", "decision")
    page.fill("#note_text", "Fail over to the secondary acquirer")
    page.click("button[name=_note]")
    expect_message(page, f"Decision added to {reference}'s timeline.")

    # Investigate, then resolve, with the allowed-move buttons.
    page.click(".ir-actions a.ir-move-investigating")
    page.fill("#id_note", "Acquirer timeouts in the logs")
    page.click("input[name=_apply]")
    expect_message(page, f"{reference} moved from declared to investigating.")
    page.click(".ir-actions a.ir-move-resolved")
    page.fill("#id_note", "Secondary acquirer carrying traffic")
    page.click("input[name=_apply]")
    expect_message(page, f"{reference} moved from investigating to resolved.")

    # A fresh look at the incident page: every step is on the timeline.
    page.goto(f"/admin/incidents/incident/{incident.pk}/change/")
    expect(page.locator(".ir-essentials .ir-status")).to_have_text("Resolved")
    timeline = page.locator("#timeline-group")
    for text in (
        f"Mia Moss declared SEV-2 {reference}: Card payments failing",
        "Cora Chen is now Incident Commander (assigned by Mia Moss)",
        "Mia Moss ticked “Open the incident channel”",
        "Fail over to the secondary acquirer",
        "moved status declared → investigating: Acquirer timeouts in the logs",
        "moved status investigating → resolved: Secondary acquirer carrying traffic",
    ):
        expect(timeline).to_contain_text(text)
    # Newest first: the resolution heads the timeline.
    expect(timeline.locator("tbody tr").first).to_contain_text("investigating → resolved")
    # Essentials come before the edit form, with the severity in its colour.
    badge = page.locator(".ir-essentials .ir-badge")
    expect(badge).to_have_text("SEV-2")
    expect(badge).to_have_css("background-color", "rgb(245, 124, 0)")
    essentials_top = page.locator(".ir-essentials").bounding_box()["y"]
    form_top = page.locator("#incident_form").bounding_box()["y"]
    assert essentials_top < form_top
    page.screenshot(path=SCREENSHOT, full_page=True)

    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert incident.roles.get(relieved_at__isnull=True).user.username == "cora"
