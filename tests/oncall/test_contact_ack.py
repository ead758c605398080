"""The one-click acknowledge link, through the Django test client, without logging in.

GET only shows a confirmation; POST (with the CSRF token the GET set) acknowledges as the
link's person through the engine's verb; a link that cannot be used is a clear 400/403 page
that names nothing; no bad token is a 500.

The project URLconf mounts ``oncall.urls.ack_patterns`` under ``oncall/ack/``; this module
mounts it the same way on top of the project's URLs, so the tests hold before that line
lands in ``config/urls.py`` and after.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import include, path
from django.utils import timezone

import config.urls
from incidents import services as incidents
from incidents.models import TimelineEntry
from ircore.models import Delivery, Service
from oncall import acklinks
from oncall.acklinks import ack_link_resolve, ack_token
from oncall.models import Page
from oncall.services.contact import page_attempts_send_due, page_notify
from oncall.services.escalation import escalation_acknowledge
from oncall.urls import ack_patterns

from .test_contact_fixtures import *  # noqa: F403  (the fixtures)
from .test_contact_fixtures import MIN, T0

urlpatterns = [
    *[p for p in config.urls.urlpatterns if str(p.pattern) != "oncall/ack/"],
    path("oncall/ack/", include(ack_patterns)),
]
pytestmark = pytest.mark.urls(__name__)

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)")


@pytest.fixture
def pages(crew, make_page, incident):
    """Alice's page (step 1) and Bob's (step 2), both "unless acknowledged"."""
    now = timezone.now()
    alice = make_page(crew.alice, step=1, due_at=now, paged_at=now, status=Page.Status.SENT)
    bob = make_page(crew.bob, step=2, due_at=now, paged_at=now, status=Page.Status.SENT)
    return alice, bob


def link(page, **kwargs) -> str:
    return f"/oncall/ack/{ack_token(page=page, **kwargs)}/"


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_of(client: Client, url: str) -> str:
    shown = client.get(url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', shown.content.decode())
    assert token, "the confirmation carries a CSRF token"
    return token.group(1)


def post_with_csrf(client: Client, url: str):
    return client.post(url, {"csrfmiddlewaretoken": csrf_of(client, url)})


def test_get_shows_a_confirmation_and_acknowledges_nothing(crew, pages, incident):
    alice_page, _ = pages
    response = csrf_client().get(link(alice_page))
    assert response.status_code == 200
    html = response.content.decode()
    assert incident.reference in html and "Card payments failing" in html
    assert "Alice Test" in html
    assert html.count('method="post"') == 1 and 'type="submit"' in html
    assert "csrftoken" in response.cookies
    alice_page.refresh_from_db()
    incident.refresh_from_db()
    assert alice_page.status == Page.Status.SENT and incident.acknowledged_at is None


def test_the_page_passes_the_content_security_policy(pages):
    response = Client().get(link(pages[0]))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    html = response.content.decode()
    assert "<style" not in html and not INLINE_SCRIPT.search(html)
    main = html[html.index('id="content-main"') :]
    assert 'style="' not in main
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_page_shows_nothing_beyond_the_message(crew, pages, incident):
    html = Client().get(link(pages[0])).content.decode()
    assert "Bob" not in html  # the other people paged
    assert "Payments API" not in html  # nor the incident's details
    assert "/admin/" not in html.split('id="content-main"')[1]


def test_post_acknowledges_as_the_links_person_and_stops_the_other_pages(crew, pages, incident):
    alice_page, bob_page = pages
    response = post_with_csrf(csrf_client(), link(alice_page))
    assert response.status_code == 200
    assert "Acknowledged by <strong>Alice Test</strong>" in response.content.decode()
    alice_page.refresh_from_db()
    bob_page.refresh_from_db()
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None
    assert (alice_page.status, alice_page.acknowledged_by, alice_page.acknowledged_via) == (
        Page.Status.ACKNOWLEDGED,
        crew.alice,
        "link",
    )
    assert bob_page.status == Page.Status.STOPPED
    entry = incident.timeline.filter(kind=TimelineEntry.Kind.ACKNOWLEDGEMENT).last()
    assert entry.author == crew.alice and "via link" in entry.text


def test_a_second_post_says_already_acknowledged_and_changes_nothing(pages, incident):
    url = link(pages[0])
    client = csrf_client()
    csrf = csrf_of(client, url)
    assert client.post(url, {"csrfmiddlewaretoken": csrf}).status_code == 200
    entries = incident.timeline.count()
    again = client.post(url, {"csrfmiddlewaretoken": csrf})
    assert again.status_code == 200
    assert "already acknowledged" in again.content.decode()
    assert incident.timeline.count() == entries


def test_a_post_without_the_csrf_token_is_refused(pages, incident):
    response = csrf_client().post(link(pages[0]))
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_a_logged_in_colleague_opening_the_link_acknowledges_as_the_link_person(
    crew, pages, incident
):
    client = csrf_client()
    client.force_login(crew.bob)
    post_with_csrf(client, link(pages[0]))
    pages[0].refresh_from_db()
    assert pages[0].acknowledged_by == crew.alice


def tampered(token: str) -> str:
    return token[:5] + ("A" if token[5] != "A" else "B") + token[6:]


def signed(**payload) -> str:
    payload.setdefault("t", int(timezone.now().timestamp()))
    return signing.Signer(salt=acklinks.SALT).sign_object(payload)


def refusal(path: str):
    response = Client().get(path)
    return response.status_code, response.content.decode()


def test_tampered_expired_and_junk_links_are_refused_without_details(crew, pages, incident):
    alice_page, _ = pages
    token = ack_token(page=alice_page)
    expired = ack_token(page=alice_page, now=timezone.now() - timedelta(hours=25))
    cases = {
        "tampered": (f"/oncall/ack/{tampered(token)}/", 400, "not valid"),
        "expired": (f"/oncall/ack/{expired}/", 403, "has expired"),
        "junk": ("/oncall/ack/x/", 400, "not valid"),
        "long": (f"/oncall/ack/{'a' * 5000}/", 400, "not valid"),
        "nul": ("/oncall/ack/%00/", 400, "not valid"),
    }
    for name, (url, code, says) in cases.items():
        status, html = refusal(url)
        assert (status, says in html) == (code, True), name
        assert incident.reference not in html and "Alice" not in html, name
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_a_link_for_another_person_incident_or_page_is_refused(crew, pages, incident, sev):
    alice_page, bob_page = pages
    other = incidents.incident_declare(
        title="Other",
        severity=sev,
        services=[Service.objects.create(name="X", slug="x")],
        user=crew.boss,
    )
    forged = {
        "other person": signed(p=alice_page.pk, u=crew.bob.pk, i=incident.pk),
        "other incident": signed(p=alice_page.pk, u=crew.alice.pk, i=other.pk),
        "no such page": signed(p=10**9, u=crew.alice.pk, i=incident.pk),
    }
    for name, token in forged.items():
        status, html = refusal(f"/oncall/ack/{token}/")
        assert status == 400, name
        response = Client().post(f"/oncall/ack/{token}/")
        assert response.status_code == 400, name
    alice_page.refresh_from_db()
    assert alice_page.status == Page.Status.SENT


def test_a_person_no_longer_active_cannot_use_their_link(crew, pages):
    url = link(pages[0])
    crew.alice.is_active = False
    crew.alice.save()
    assert refusal(url)[0] == 400


def test_a_page_stopped_by_a_colleagues_ack_offers_no_button_and_names_nobody(
    crew, pages, incident
):
    bob_url = link(pages[1])
    post_with_csrf(csrf_client(), link(pages[0]))  # Alice acknowledges: Bob's page stops
    html = Client().get(bob_url).content.decode()
    assert 'type="submit"' not in html and "no longer needs an acknowledgement" in html
    assert "Alice" not in html
    response = csrf_client().post(bob_url)  # no CSRF token: refused before anything
    assert response.status_code == 403


def test_a_post_racing_an_earlier_one_says_already_acknowledged(crew, pages, incident):
    url = link(pages[0])
    client = csrf_client()
    csrf = csrf_of(client, url)
    # Between this GET and the POST, Alice acknowledges in the admin.
    escalation_acknowledge(incident=incident, user=crew.alice, via="admin", page=pages[0])
    html = client.post(url, {"csrfmiddlewaretoken": csrf}).content.decode()
    assert "already acknowledged" in html
    pages[0].refresh_from_db()
    assert pages[0].acknowledged_via == "admin"


def test_resolve_reads_page_person_and_incident(crew, pages, incident):
    page, person, found = ack_link_resolve(ack_token(page=pages[0]))
    assert (page, person, found) == (pages[0], crew.alice, incident)


def test_a_closed_incident_offers_no_button(crew, pages, incident):
    url = link(pages[1])
    for status in ("investigating", "resolved", "closed"):
        incidents.incident_set_status(incident=incident, status=status, user=crew.boss)
    html = Client().get(url).content.decode()
    assert 'type="submit"' not in html
    assert "no longer needs an acknowledgement" in html


def test_the_link_in_a_page_message_acknowledges_and_stops_the_later_attempts(
    crew, alice_rules, make_page, incident
):
    """The whole way: the rules' first message carries the link; the person follows it
    three minutes later; the webhook due at five minutes never goes."""
    with time_machine.travel(T0, tick=False) as clock:
        page = make_page(crew.alice)
        other = make_page(crew.bob, step=2)
        page_notify(page=page, now=T0)
        body = Delivery.objects.get(page_attempts__page=page).body
        url = re.search(r"Acknowledge: (\S+)", body).group(1)
        assert url.startswith("http://127.0.0.1:8000/oncall/ack/")
        assert page_attempts_send_due(now=T0 + 2 * MIN) == 1
        clock.move_to(T0 + 3 * MIN)
        response = post_with_csrf(csrf_client(), url.removeprefix("http://127.0.0.1:8000"))
        assert response.status_code == 200
        assert page_attempts_send_due(now=T0 + 5 * MIN) == 0
    incident.refresh_from_db()
    page.refresh_from_db()
    other.refresh_from_db()
    assert incident.acknowledged_at == T0 + 3 * MIN
    assert (page.status, page.acknowledged_via) == (Page.Status.ACKNOWLEDGED, "link")
    assert other.status == Page.Status.STOPPED
    webhook = page.attempts.get(kind="webhook")
    assert webhook.sent_at is None and webhook.stop_reason == "Not sent: the page was acknowledged."
