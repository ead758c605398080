"""The API's guards: failed token authentication is throttled per client address, calls are
rate-limited per user, answers are private (no-store, Vary: Authorization), and every page
carries the Content-Security-Policy and Permissions-Policy headers."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import caches
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ircore import roles
from ircore.throttling import AnonRateThrottle, UserRateThrottle

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
API = "/api/v1/severities/"
ADDRESSES = ("10.1.0.1", "10.1.0.2")


def _forget_counts():
    # Counts are kept per time window (one key per address and window): start from none.
    caches["default"].clear()


@pytest.fixture(autouse=True)
def no_counts(db):
    """Counts live in shared caches (Redis on CI), which outlive a test's transaction."""
    _forget_counts()
    yield
    _forget_counts()


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def token(make_user):
    return Token.objects.create(user=make_user("rob", roles.RESPONDERS)).key


def call(key: str, address: str = ADDRESSES[0]):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", REMOTE_ADDR=address)
    return client.get(API)


# --- failed token authentication ------------------------------------------------------------


def test_ten_bad_tokens_from_one_address_are_refused_for_15_minutes(settings, token, clock):
    assert settings.API_TOKEN_FAILURE_LIMIT == 10
    assert [call("not-a-token").status_code for _ in range(10)] == [401] * 10

    refused = call("not-a-token")
    assert refused.status_code == 429
    assert refused.json() == {
        "detail": ["Too many failed token authentications. Expected available in 900 seconds."]
    }
    assert refused["Retry-After"] == "900"
    # The right token from that address waits too, or guessing would simply go on ...
    assert call(token).status_code == 429
    # ... while another address is unaffected.
    assert call(token, ADDRESSES[1]).status_code == 200

    clock.shift(timedelta(minutes=14))
    assert call(token)["Retry-After"] == "60"
    clock.shift(timedelta(minutes=1, seconds=1))  # the window of the first failure is over
    assert call(token).status_code == 200
    assert call("not-a-token").status_code == 401  # counting again from one


def test_good_tokens_and_session_calls_are_not_counted(token, make_user, clock):
    for _ in range(20):
        assert call(token).status_code == 200
    client = APIClient(REMOTE_ADDR=ADDRESSES[0])
    client.force_login(make_user("mia", roles.INCIDENT_MANAGERS))
    assert client.get(API).status_code == 200
    assert call("not-a-token").status_code == 401


# --- per-user rates -------------------------------------------------------------------------


def test_rates_come_from_the_environment_with_room_for_integrations(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {"user": "1200/min", "anon": "600/min"}


def test_a_user_past_the_rate_waits_while_others_go_on(make_user, monkeypatch, clock):
    # The configured rate is 1,200 a minute; the same throttle with a rate a test can reach.
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "3/min")
    rob, mia = make_user("rob", roles.RESPONDERS), make_user("mia", roles.INCIDENT_MANAGERS)
    for user in (rob, mia):
        caches["throttle"].delete(f"throttle_user_{user.pk}")
    client = APIClient()
    client.force_authenticate(rob)

    assert [client.get(API).status_code for _ in range(3)] == [200] * 3
    refused = client.get(API)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused.json()["detail"][0].startswith("Request was throttled.")

    other = APIClient()
    other.force_authenticate(mia)
    assert other.get(API).status_code == 200

    clock.shift(timedelta(seconds=61))
    assert client.get(API).status_code == 200


def test_a_forged_forwarded_for_header_does_not_make_a_new_anonymous_caller(monkeypatch, db):
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "2/min")
    caches["throttle"].delete("throttle_anon_10.1.0.9")
    statuses = [
        APIClient()
        .get("/api/docs/", REMOTE_ADDR="10.1.0.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        .status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


# --- headers --------------------------------------------------------------------------------


def test_token_answers_are_private(token):
    response = call(token)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Authorization" in response["Vary"]
    refused = call("not-a-token", ADDRESSES[1])
    assert "no-store" in refused["Cache-Control"] and "Authorization" in refused["Vary"]


def test_every_page_has_the_content_security_and_permissions_policies(client, db):
    for path in ("/admin/login/", "/api/docs/", "/api/v1/"):
        response = client.get(path)
        csp = dict(
            directive.strip().split(" ", 1)
            for directive in response["Content-Security-Policy"].split(";")
        )
        assert csp["default-src"] == "'self'"
        assert csp["script-src"] == "'self'"
        # This install's files, and inline style elements only by hash (no 'unsafe-inline').
        assert csp["style-src"].split()[0] == "'self'"
        assert all(source.startswith("'sha256-") for source in csp["style-src"].split()[1:])
        assert csp["object-src"] == "'none'"
        assert csp["frame-ancestors"] == "'none'"
        policy = response["Permissions-Policy"]
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert f"{feature}=()" in policy, (path, feature)


# --- the API docs work offline ----------------------------------------------------------------


def test_api_docs_load_everything_from_this_install(client, settings, db):
    import re

    from django.contrib.staticfiles import finders

    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    assert "<script>" not in html and "<style>" not in html  # nothing inline for the CSP
    for url in urls:
        assert url.startswith("/"), f"{url} is not served by this install"
    static = [url for url in urls if url.startswith("/static/")]
    assert any("swagger-ui-bundle.js" in url for url in static)
    assert any("swagger-ui.css" in url for url in static)
    for url in static:
        assert finders.find(url.removeprefix("/static/").split("?")[0]), url

    # The page's own script and the schema it loads are served too.
    (script,) = [url for url in urls if "script" in url and not url.startswith("/static/")]
    response = client.get(script.replace("&amp;", "&"))
    assert response.status_code == 200
    assert "SwaggerUIBundle" in response.content.decode()
    assert client.get("/api/schema/").status_code == 200


def test_api_docs_static_files_are_served(settings, db):
    """WhiteNoise serves the sidecar's files (from the finders here, collected in production)."""
    from django.test import Client

    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    client = Client()
    page = client.get("/api/docs/").content.decode()
    import re

    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        response = client.get(url)
        assert response.status_code == 200, url
        assert int(response["Content-Length"]) > 0, url
