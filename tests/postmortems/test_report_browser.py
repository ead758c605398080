"""The monthly report in a real browser: Leadership logs in, reads the figures, the three
charts load as images under the page's Content-Security-Policy (the ``page`` fixture fails
on any violation), and the printed page leaves the admin's chrome out."""

import pytest

from tests.e2e.conftest import browser, page  # noqa: F401  (fixtures)

from .test_report_history import history, paged, policy  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.e2e]

SCREENSHOT = "/tmp/report-page.png"


@pytest.fixture
def world(transactional_db, cast, history):  # noqa: F811
    return history


def test_leadership_reads_the_monthly_report_with_its_charts(page, world):  # noqa: F811
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "leo")
    page.fill("#id_password", "pw-leo")
    page.click("input[type=submit]")
    page.click("text=Reports")
    page.fill("#id_month", "2025-03")
    page.click("form.report-period input[type=submit]")
    assert page.locator("#figure-total").inner_text() == "4"
    images = page.locator("img.report-chart, section.report-chart img")
    assert images.count() == 3
    page.wait_for_function(
        "() => [...document.images].filter(i => i.src.includes('/chart/'))"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.emulate_media(media="print")
    assert not page.locator("#header").is_visible()
    assert page.locator("#figure-total").is_visible()
