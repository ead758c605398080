"""Browser tests: the Python ``playwright`` package driving Debian's Chromium (apt), never a
browser that ``playwright install`` would download (that cannot be fetched here)."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls (set-up
# and checks) are still synchronous, so Django's async-safety guard must stand aside.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class OneRequestAtATime(WSGIServer):
    """The live server for an in-memory SQLite test database. Its request threads would all
    share the test's one connection (Django hands it to each), and two at once (a report page
    fetching its charts) can deadlock inside SQLite; served one by one on the server thread,
    which holds that connection too. Not threading, Django answers ``Connection: close``."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    LiveServerThread.server_class = OneRequestAtATime

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        reason = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)."
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs it: its absence there is a broken setup
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            # The test's own ORM calls ran while Playwright's event loop was current, so
            # their connections live in that context's storage: close them here, or the
            # test database cannot be dropped at the end of a PostgreSQL run.
            connections.close_all()
            browser.close()


# Reports every Content-Security-Policy violation of every page the tab opens to the test.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
    window.reportCspViolation({
        page: location.href,
        directive: event.violatedDirective,
        blocked: event.blockedURI,
        source: event.sourceFile + ":" + event.lineNumber,
        sample: event.sample,
    });
});
"""


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab against the live server; relative URLs resolve to it.

    Every browser test also checks the Content-Security-Policy: a violation the page reports
    (``securitypolicyviolation``) or Chromium logs to the console fails the test, so a page
    that needs an inline script or style the policy refuses is caught where it is clicked.
    """
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    violations: list = []
    context.expose_function("reportCspViolation", lambda report: violations.append(report))
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    tab = context.new_page()
    tab.on(
        "console",
        lambda message: (
            violations.append({"console": message.text, "page": tab.url})
            if "Content Security Policy" in message.text
            else None
        ),
    )
    tab.csp_violations = violations
    tab.set_default_timeout(20_000)
    try:
        yield tab
        assert violations == [], "Content-Security-Policy violations"
    finally:
        context.close()
