"""Token URLs are logged with the token redacted (``ircore.logging.RedactTokens``, on the
loggers ``settings.LOGGING`` names): Django's request log of a refused heartbeat, of an
unknown feed, acknowledge or status link, the database-down handler's line, and runserver's
access log. Real requests through the test client; the records as the handlers get them."""

import logging
import sys

import pytest
from django.test import Client

from ircore.logging import TOKEN_PATHS, RedactTokens

from .test_api_db_down import database_down  # noqa: F401  (a fixture)

SECRET = "s3cr3t-Token_value-0123456789abcdefghij"


def _texts(caplog) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records]


def _no_token_in(caplog, token: str) -> None:
    for record in caplog.records:
        assert token not in record.getMessage()
        assert token not in (record.exc_text or "")
        request = getattr(record, "request", None)
        assert token not in str(getattr(request, "path", ""))


def test_the_loggers_that_write_paths_have_the_filter():
    for name in ("django.request", "django.server", "ircore.middleware"):
        assert any(isinstance(f, RedactTokens) for f in logging.getLogger(name).filters), name


def test_a_refused_heartbeat_is_logged_without_its_token(client, alertmanager, caplog):
    alertmanager.integration.enabled = False
    alertmanager.integration.save()
    token = alertmanager.token  # a real token: the one a log reader must not learn

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(f"/api/v1/alerts/heartbeat/{token}/")

    assert response.status_code == 403
    assert "django.request: Forbidden: /api/v1/alerts/heartbeat/<redacted>/" in _texts(caplog)
    _no_token_in(caplog, token)
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.request is None  # nothing prints its path or headers further down
    assert record.status_code == 403


@pytest.mark.parametrize(
    "path, shown",
    [
        (f"/oncall/feeds/{SECRET}.ics", "Not Found: /oncall/feeds/<redacted>"),
        (f"/oncall/ack/{SECRET}/", "Bad Request: /oncall/ack/<redacted>/"),
        (
            f"/status/subscribe/confirm/{SECRET}/",
            "Bad Request: /status/subscribe/confirm/<redacted>/",
        ),
        (f"/status/unsubscribe/{SECRET}/", "Bad Request: /status/unsubscribe/<redacted>/"),
        (
            f"/api/v1/alerts/heartbeat/{SECRET}/?x=1",
            "Unauthorized: /api/v1/alerts/heartbeat/<redacted>/",
        ),
    ],
)
def test_other_token_urls_are_logged_without_their_token(db, client, caplog, path, shown):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(path)

    assert response.status_code >= 400
    assert f"django.request: {shown}" in _texts(caplog)
    _no_token_in(caplog, SECRET)


def test_database_down_on_a_heartbeat_is_logged_without_its_token(alertmanager, caplog, request):
    token = alertmanager.token
    request.getfixturevalue("database_down")

    with caplog.at_level(logging.INFO):
        response = Client(raise_request_exception=False).get(f"/api/v1/alerts/heartbeat/{token}/")

    assert response.status_code == 503
    texts = _texts(caplog)
    assert any(
        t.startswith(
            "ircore.middleware: Database unavailable on GET /api/v1/alerts/heartbeat/<redacted>/"
        )
        for t in texts
    ), texts
    assert "django.request: Service Unavailable: /api/v1/alerts/heartbeat/<redacted>/" in texts
    _no_token_in(caplog, token)


def test_runservers_access_line_is_logged_without_the_token(caplog):
    """``django.server`` propagates to no other logger: read what its handler is given."""
    server = logging.getLogger("django.server")
    given: list[logging.LogRecord] = []
    catch = logging.Handler()
    catch.emit = given.append
    server.addHandler(catch)
    try:
        # As django.core.servers.basehttp.WSGIRequestHandler.log_message writes it.
        server.info('"%s" %s %s', f"GET /api/v1/alerts/heartbeat/{SECRET}/ HTTP/1.1", "404", "0")
    finally:
        server.removeHandler(catch)

    (record,) = given
    assert record.getMessage() == '"GET /api/v1/alerts/heartbeat/<redacted>/ HTTP/1.1" 404 0'


def test_an_exception_and_other_paths_are_left_readable():
    redact = RedactTokens()
    try:
        raise ValueError(f"no such feed /oncall/feeds/{SECRET}.ics")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    assert redact.filter(record)
    assert SECRET not in record.exc_text and "/oncall/feeds/<redacted>" in record.exc_text
    assert redact.redact("GET /admin/incidents/incident/12/change/") == (
        "GET /admin/incidents/incident/12/change/"
    )
    assert redact.redact("/oncall/feeds/") == "/oncall/feeds/"  # no token, nothing to hide
    assert RedactTokens(paths=["/custom/"]).redact("/custom/abc/x") == "/custom/<redacted>/x"
    assert "/api/v1/alerts/heartbeat/" in TOKEN_PATHS
