"""The first screen in a real browser: an ops manager logs in, reads the board of what is
open (most severe first, what is overdue, who leads it, the regulator's clock, the drill) and
clicks through to an incident.

The live server runs on the real clock (a frozen clock would make the session cookie expire
in the browser's past), so incidents are declared minutes before now.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents import services
from ircore import roles
from ircore.models import IncidentType, Profile, Service, Severity

pytestmark = [pytest.mark.e2e]

SCREENSHOT = "/tmp/board.png"


@pytest.fixture
def world(transactional_db, make_user):
    """Policy, people and four open incidents, committed so the live server sees them."""
    sev1 = Severity.objects.create(
        key="SEV-1",
        rank=1,
        name="Critical",
        colour="#d32f2f",
        ack_target=timedelta(minutes=5),
        resolve_target=timedelta(hours=4),
    )
    sev2 = Severity.objects.create(
        key="SEV-2",
        rank=2,
        name="Major",
        colour="#f57c00",
        ack_target=timedelta(minutes=15),
        resolve_target=timedelta(hours=8),
    )
    breach = IncidentType.objects.create(
        key="security-breach", name="Security breach", regulatory_notification_hours=72
    )
    api = Service.objects.create(name="Payments API", slug="payments-api")
    manager = make_user("mia", roles.INCIDENT_MANAGERS, first_name="Mia", last_name="Moss")
    cora = make_user("cora", roles.RESPONDERS, first_name="Cora", last_name="Chen")
    Profile.objects.filter(user=cora).update(
        ic_certified_on=timezone.localdate() - timedelta(days=90)
    )
    now = timezone.now()

    def declare(title, severity, minutes_ago, **kwargs):
        return services.incident_declare(
            title=title,
            severity=severity,
            services=[api],
            user=manager,
            now=now - timedelta(minutes=minutes_ago),
            **kwargs,
        )

    newer = declare("Webhooks delayed", sev2, 3)
    breach_incident = declare(
        "Card data exposed in logs", sev2, 40, incident_type=breach, is_drill=False
    )
    services.incident_acknowledge(
        incident=breach_incident, user=manager, now=now - timedelta(minutes=35)
    )
    services.role_assign(
        incident=breach_incident,
        role="ic",
        user=cora,
        by=manager,
        now=now - timedelta(minutes=34),
    )
    drill = declare("Game day: failover", sev2, 20, is_drill=True)
    sev1 = declare("Card payments failing", sev1, 25)
    return {"sev1": sev1, "breach": breach_incident, "drill": drill, "newer": newer}


def test_manager_reads_the_board_and_clicks_through(page, world):
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "pw-mia")
    page.click("input[type=submit]")

    board = page.locator(".ir-board")
    expect(board.locator("h2")).to_have_text("Open now")
    expect(page.locator(".ir-board-counts")).to_have_text(
        "4 open: 1 SEV-1, 3 SEV-2; 3 unacknowledged; 3 without IC; 1 drill"
    )
    rows = board.locator("tbody tr")
    expect(rows).to_have_count(4)
    # Most severe first, then the longest open.
    order = [world[key].reference for key in ("sev1", "breach", "drill", "newer")]
    assert [rows.nth(i).get_attribute("data-reference") for i in range(4)] == order

    sev1_row = rows.nth(0)
    expect(sev1_row.locator(".ir-board-ack")).to_have_text("ack overdue by 20m")
    expect(sev1_row.locator(".ir-board-ic")).to_have_text("no IC")
    expect(sev1_row.locator(".ir-board-resolve")).to_contain_text("resolve due in 3h 3")
    breach_row = rows.nth(1)
    expect(breach_row.locator(".ir-board-ic")).to_have_text("cora")
    expect(breach_row.locator(".ir-board-reg")).to_contain_text("Regulator notification due in 71h")
    expect(rows.nth(2).locator(".ir-board-drill")).to_have_text("DRILL")
    expect(page.locator("a.ir-board-declare")).to_have_text("Declare an incident")
    # Overdue reads as an alarm, not as body text.
    expect(sev1_row.locator(".ir-board-ack")).to_have_css("font-weight", "700")
    # The board takes the width; the model list is still there below it.
    assert board.bounding_box()["width"] > 1000
    expect(page.locator("#content-main .app-incidents")).to_be_visible()
    assert (
        page.locator("#content-main").bounding_box()["y"]
        > board.bounding_box()["y"] + board.bounding_box()["height"] - 1
    )
    page.screenshot(path=SCREENSHOT, full_page=True)

    # One click to the incident's page.
    sev1_row.locator("a.ir-board-link").click()
    expect(page.locator(".ir-essentials .ir-ref")).to_have_text(world["sev1"].reference)
