"""The API docs in a real browser under the Content-Security-Policy: Swagger UI comes from this
install's static files (drf-spectacular-sidecar), renders the operations, and nothing it does
is refused by the policy (the ``page`` fixture fails the test on any violation)."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e]


def test_api_docs_render_offline_with_no_csp_violation(page, transactional_db, live_server):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Incident response API")
    operations = page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    page.locator(".opblock-summary", has_text="/api/v1/incidents/").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    # Every request stayed on this server: no CDN, no validator badge.
    assert requested and all(url.startswith(live_server.url) for url in requested), requested
    page.wait_for_timeout(0)  # let queued violation reports reach the test
    assert page.csp_violations == []


def test_the_policy_refuses_inline_script_and_the_check_sees_it(page, transactional_db):
    """The check above would pass on a page that reports nothing: prove it hears a refusal.
    A probe page carries this install's own policy header and an inline script and style."""
    policy = page.goto("/admin/login/").headers["content-security-policy"]
    page.route(
        "**/csp-probe",
        lambda route: route.fulfill(
            content_type="text/html",
            headers={"Content-Security-Policy": policy},
            body="<script>document.title = 'ran'</script><style>body{color:red}</style>",
        ),
    )

    page.goto("/csp-probe")

    assert page.title() != "ran"
    directives = sorted({v.get("directive") for v in page.csp_violations if "directive" in v})
    assert directives == ["script-src-elem", "style-src-elem"]
    page.csp_violations.clear()  # seen and expected: the fixture checks for any others


def test_policy_import_page_has_no_csp_violation(page, transactional_db, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-e2e")
    page.goto("/admin/login/?next=/admin/ircore/severity/policy/import/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw-root-e2e")
    page.click("input[type=submit]")

    expect(page.locator("#content h1")).to_contain_text("Import")
    assert page.csp_violations == []
