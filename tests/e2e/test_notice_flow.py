"""A customer notice from draft to the status page, clicked through the admin in a real
browser: a support agent drafts it from a template on the incident's page and submits it; an
incident manager approves and publishes it; the public status page shows it."""

import pytest
from playwright.sync_api import expect

from comms.models import Notice, Template
from incidents import services as incident_services
from ircore import roles
from ircore.models import Service, Severity, Team

pytestmark = [pytest.mark.e2e]

SCREENSHOTS = "/tmp/e2e-notice-{}.png"


@pytest.fixture
def world(transactional_db, make_user):
    """Policy, a template, people and an incident, committed so the live server sees them."""
    severity = Severity.objects.create(key="SEV-2", rank=2, name="Major", colour="#f57c00")
    payments = Team.objects.create(name="Payments", slug="payments", email="payments@example.com")
    api = Service.objects.create(
        name="Payments API", slug="payments-api", team=payments, public=True, public_name="Payments"
    )
    Template.objects.create(
        name="Customer outage notice",
        kind=Template.Kind.CUSTOMER_OUTAGE,
        audience="customers",
        subject="{{ public_service_names }}: degraded performance",
        body="We are investigating **failed card payments** on {{ public_service_names }}.",
    )
    manager = make_user("mia", roles.INCIDENT_MANAGERS, first_name="Mia", last_name="Moss")
    make_user("sue", roles.SUPPORT, first_name="Sue", last_name="Support")
    return incident_services.incident_declare(
        title="Card payments failing", severity=severity, services=[api], user=manager
    )


def log_in(page, username, next_url):
    page.context.clear_cookies()
    page.goto(f"/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("input[type=submit]")


def expect_message(page, text):
    expect(page.locator("ul.messagelist")).to_contain_text(text)


def test_support_drafts_from_a_template_a_manager_publishes_it_shows_on_the_status_page(
    page, world
):
    incident = world
    # The support agent opens the incident and drafts a notice from its page.
    log_in(page, "sue", f"/admin/incidents/incident/{incident.pk}/change/")
    page.click("a.ir-draft-notice")
    expect(page.locator("#content h1")).to_contain_text("Add notice")
    page.select_option("#id_template", label="Customer outage notice (customers)")
    page.click("input[name=_save]")

    # Its page shows the text written from the template, rendered, and the next step.
    expect_message(page, "Drafted “Payments: degraded performance”.")
    preview = page.locator(".cm-preview")
    expect(preview).to_contain_text("Payments: degraded performance")
    expect(preview.locator("strong")).to_have_text("failed card payments")
    expect(page.locator(".cm-goes-to")).to_contain_text("the public status page (Payments)")
    page.click("button[name=_submit]")
    expect_message(page, "submitted for review")
    expect(page.locator(".cm-status")).to_have_text("In review")
    # Support may neither approve nor publish.
    expect(page.locator("button[name=_approve]")).to_have_count(0)
    expect(page.locator("button[name=_publish]")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS.format("submitted"), full_page=True)

    # The incident manager finds it in the list, approves and publishes it.
    log_in(page, "mia", "/admin/comms/notice/?status__exact=in_review")
    page.click("text=Payments: degraded performance")
    page.click("button[name=_approve]")
    expect_message(page, "approved")
    page.click("button[name=_publish]")
    expect_message(page, "published")
    expect(page.locator(".cm-status")).to_have_text("Published")
    page.screenshot(path=SCREENSHOTS.format("published"), full_page=True)

    # Anyone, logged in or not, reads it on the status page.
    page.context.clear_cookies()
    page.goto("/status/")
    update = page.locator("ol.updates li").first
    expect(update.locator("h4")).to_have_text("Payments: degraded performance")
    expect(update.locator(".body strong")).to_have_text("failed card payments")
    page.screenshot(path=SCREENSHOTS.format("status"), full_page=True)

    notice = Notice.objects.get()
    assert (notice.status, notice.created_by.username, notice.published_by.username) == (
        Notice.Status.PUBLISHED,
        "sue",
        "mia",
    )
