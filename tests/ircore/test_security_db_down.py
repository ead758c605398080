"""Defect 2 of issue 6: with the database down the API answered Django's HTML 500 page. It must
answer 503 with ``Retry-After`` in the API's JSON error shape, and the admin a plain 503 page,
whether the failing query runs in a view (token lookup, login) or in middleware (the session).

The database is really unreachable: the request runs on a connection to a file that cannot be
opened (SQLite) or a port where nothing listens (PostgreSQL), swapped in for the test only.
"""

import copy

import pytest
from django.db import connections
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ircore import roles


@pytest.fixture
def database_down(db):
    original = connections["default"]
    settings_dict = copy.deepcopy(original.settings_dict)
    if original.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-directory/for-this-test/db.sqlite3"
    else:
        settings_dict.update(HOST="127.0.0.1", PORT="1")
    broken = original.__class__(settings_dict, alias="default")
    connections["default"] = broken

    yield

    broken.close()
    connections["default"] = original


def assert_api_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": ["The database is unavailable; try again shortly."]}


def assert_page_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Service unavailable" in body and "Traceback" not in body


def test_api_with_a_token_answers_json_503(make_user, database_down_after_token):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {database_down_after_token}")

    assert_api_503(client.get("/api/v1/incidents/"))
    assert_api_503(client.post("/api/v1/incidents/", {"title": "x"}, format="json"))


@pytest.fixture
def database_down_after_token(make_user, request):
    key = Token.objects.create(user=make_user("rob", roles.RESPONDERS)).key
    request.getfixturevalue("database_down")
    return key


def test_api_with_a_session_answers_json_503_from_middleware(make_user, request):
    client = Client(raise_request_exception=False)
    client.force_login(make_user("rob", roles.RESPONDERS))
    request.getfixturevalue("database_down")

    # The session is read in middleware (the viewer's time zone), before any view runs.
    assert_api_503(client.get("/api/v1/incidents/"))


def test_admin_answers_a_plain_503_page(make_user, request):
    client = Client(raise_request_exception=False)
    client.force_login(make_user("mia", roles.INCIDENT_MANAGERS))
    request.getfixturevalue("database_down")

    assert_page_503(client.get("/admin/"))
    assert_page_503(client.get("/admin/incidents/incident/"))


def test_admin_login_answers_a_plain_503_page(database_down):
    client = Client(raise_request_exception=False)
    # The login view checks the lockout and the password: queries inside the view.
    assert_page_503(client.post("/admin/login/", {"username": "mia", "password": "pw"}))


def test_other_server_errors_keep_their_500(settings, make_user):
    """Only an unavailable database is a 503: a bug stays a 500 (JSON on the API)."""
    from django.urls import path

    def broken(request):
        raise ValueError("a bug")

    settings.ROOT_URLCONF = type(
        "urls",
        (),
        {
            "urlpatterns": [path("api/v1/broken/", broken), path("broken/", broken)],
            "handler500": "ircore.views.server_error",
        },
    )
    client = Client(raise_request_exception=False)
    api = client.get("/api/v1/broken/")
    assert (api.status_code, api.json()) == (500, {"detail": ["Server error."]})
    assert client.get("/broken/").status_code == 500
