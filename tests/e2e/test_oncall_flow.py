"""A schedule set up in the admin in a real browser: a layer inline with its people, the
rule warnings shown and accepted, then "who is on call now" and the calendar as Support
sees them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ircore import roles
from ircore.models import Team
from oncall.models import Layer, Schedule

pytestmark = [pytest.mark.e2e]

SCREENSHOTS = "/tmp/e2e-oncall-{}.png"


@pytest.fixture
def world(transactional_db, make_user):
    Team.objects.create(name="Payments", slug="payments")
    make_user("mia", roles.INCIDENT_MANAGERS, first_name="Mia", last_name="Moss")
    make_user("sue", roles.SUPPORT, first_name="Sue", last_name="Support")
    for name in ("alice", "bob"):
        user = make_user(name, roles.RESPONDERS, first_name=name.title(), last_name="Test")
        user.profile.chat_handle = f"@{name}"
        user.profile.save()


def log_in(page, username, next_url):
    page.goto(f"/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("input[type=submit]")


def test_set_up_a_rotation_accept_warnings_and_read_who_is_on_call(page, world):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    log_in(page, "mia", "/admin/oncall/schedule/add/")
    page.select_option("#id_team", label="Payments")
    page.fill("#id_name", "Payments on call")
    page.fill("#id_time_zone", "Europe/London")
    page.click("#layers-group .add-row a")
    page.fill("#id_layers-0-name", "Primary")
    page.select_option("#id_layers-0-kind", "daily")
    page.fill("#id_layers-0-start_date", f"{monday:%Y-%m-%d}")
    page.fill("#id_layers-0-handoff_time", "09:00")
    page.fill("#id_layers-0-members", "alice, bob")
    page.click("input[name=_save]")

    # Two people and one layer: no secondary. Nothing is saved until the warnings are accepted.
    expect(page.locator(".field-accept_warnings .errorlist")).to_contain_text("no secondary")
    assert not Schedule.objects.exists()
    page.screenshot(path=SCREENSHOTS.format("warnings"), full_page=True)
    page.check("#id_accept_warnings")
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("Saved with accepted warnings")
    layer = Layer.objects.get()
    assert [e.user.username for e in layer.rosters.get().entries.all()] == ["alice", "bob"]

    # Support reads whom to call, and the calendar.
    page.context.clear_cookies()
    log_in(page, "sue", "/admin/oncall/schedule/")
    page.click("text=Who is on call now")
    table = page.locator("#oncall-now")
    expect(table).to_contain_text("Payments on call")
    expect(table.locator("tbody tr").first.locator("td").nth(1)).to_contain_text("Test")
    page.screenshot(path=SCREENSHOTS.format("now"), full_page=True)
    page.click("#oncall-now a:has-text('Payments on call')")
    expect(page.locator("#oncall-calendar")).to_contain_text("Alice Test")
    expect(page.locator("#oncall-calendar")).to_contain_text("Bob Test")
    page.screenshot(path=SCREENSHOTS.format("calendar"), full_page=True)
