"""Nothing internal reaches any public response.

Every internal thing is seeded with the marker "mkx" (titles, summaries, notes, internal,
executive and unpublished notices, a drill's notices, internal-only services, a public
service's internal name and description, maintenance reasons, people, other subscribers,
severity and type names), impact figures with numbers found nowhere else, and then every
public response is read: the page, the JSON, the feed, the incident pages, the subscribe,
confirm and unsubscribe pages, and every message the status page sends subscribers.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from comms.models import Audience, Notice, Subscriber
from comms.services import subscribers
from incidents import services as incident_services
from incidents.alerts.models import MaintenanceWindow
from incidents.models import Incident
from ircore.models import IncidentType, Severity

from .statuskit import publish_notice, service

pytestmark = pytest.mark.django_db

MARK = "mkx"
FIGURES = ("987654", "987,654", "424242", "313131", "123456")


@pytest.fixture
def now():
    with time_machine.travel("2025-03-20 12:00:00+00:00", tick=False):
        yield timezone.now()


@pytest.fixture
def seeded(now, make_user):
    person = make_user("mkxuser", first_name="Mkxfirst", last_name="Mkxlast")
    approver = make_user("mkxapprover", first_name="Mkxapprover")
    severity = Severity.objects.create(key="MKX-1", rank=1, name="Mkx critical")
    kind = IncidentType.objects.create(key="mkx-type", name="Mkx type")
    api = service("Mkx payments core", public_name="Payments")
    api.description = "Mkx runs on db-mkx-03"
    api.save()
    dash = service("Dashboard")
    internal = service("Mkx ledger", public=False)

    def declare(title, services, **kw):
        return incident_services.incident_declare(
            title=title,
            summary=f"{title} summary mkx",
            severity=severity,
            incident_type=kind,
            services=services,
            user=person,
            now=now - timedelta(hours=2),
            **kw,
        )

    live = declare("Mkx live title", [api, internal])
    incident_services.affected_service_set(
        incident=live, service=api, status="major_outage", user=person, now=now
    )
    incident_services.role_assign(incident=live, role="tech_lead", user=person, by=person, now=now)
    incident_services.note_add(
        incident=live, kind="note", text="Mkx note: Bob dropped the table", user=person, now=now
    )
    incident_services.incident_update(
        incident=live,
        user=person,
        data={
            "customers_affected": 987654,
            "transactions_failed": 424242,
            "financial_impact": Decimal("313131.00"),
        },
        now=now,
    )
    public = publish_notice(
        live, "Payments delayed", "We are investigating delays.", components=[api, internal]
    )
    Notice.objects.filter(pk=public.pk).update(created_by=person, approved_by=approver)
    publish_notice(live, "Mkx internal update", "mkx", audience=Audience.INTERNAL)
    publish_notice(live, "Mkx executive briefing", "mkx", audience=Audience.EXECUTIVES)
    for status in (Notice.Status.DRAFT, Notice.Status.IN_REVIEW, Notice.Status.APPROVED):
        publish_notice(live, f"Mkx {status} notice", "mkx", status=status, components=[api])

    past = declare("Mkx past title", [dash])
    publish_notice(past, "Dashboard slow", "It was slow.", components=[dash])
    incident_services.incident_set_status(incident=past, status="resolved", user=person, now=now)

    hidden = declare("Mkx internal only", [internal])
    drill = declare("Mkx drill", [api], is_drill=True)
    incident_services.affected_service_set(
        incident=drill, service=api, status="major_outage", user=person, now=now
    )
    publish_notice(drill, "Mkx drill notice", "mkx drill body", components=[api])

    for svc in (api, internal):
        MaintenanceWindow.objects.create(
            service=svc,
            start=now + timedelta(days=1),
            end=now + timedelta(days=1, hours=1),
            reason="Mkx reboot of db-mkx-03",
            created_by=person,
        )
    Subscriber.objects.create(kind="email", target="mkx-other@example.com", confirmed_at=now)
    Subscriber.objects.create(kind="email", target="mkx-pending@example.com", all_components=False)
    return {"live": live, "past": past, "hidden": hidden, "drill": drill, "api": api}


def _clean(text: str, where: str) -> None:
    lowered = text.lower()
    assert MARK not in lowered, f"{where}: {lowered[max(0, lowered.find(MARK) - 80) :][:200]}"
    for figure in FIGURES:
        assert figure not in text, f"{where}: impact figure {figure}"
    assert not re.search(r"INC-\d{4}-\d{2}-\d{2}-\d+", text), f"{where}: a reference"


def test_no_marker_in_any_public_response(client, seeded, now):
    live, past = seeded["live"], seeded["past"]
    pages = {
        "/status/": 200,
        "/status.json": 200,
        "/status/feed.atom": 200,
        f"/status/incidents/{live.pk}/": 200,
        f"/status/incidents/{past.pk}/": 200,
        f"/status/incidents/{seeded['hidden'].pk}/": 404,
        f"/status/incidents/{seeded['drill'].pk}/": 404,
        "/status/subscribe/": 200,
        "/status/subscribe/sent/": 200,
    }
    for url, code in pages.items():
        response = client.get(url)
        assert response.status_code == code, url
        _clean(response.content.decode(), url)
        # Headers too (a Link, a Content-Disposition, a cookie would be a way out).
        _clean(" ".join(f"{k}: {v}" for k, v in response.items()), url)
    # The page did show what it may.
    html = client.get("/status/").content.decode()
    assert "Payments delayed" in html and "Dashboard slow" in html and "Payments" in html
    assert "Major System Outage" in html


def test_no_marker_in_subscribing_or_in_messages(client, seeded, now):
    response = client.post(
        "/status/subscribe/", {"email-kind": "email", "email-email": "mkx-other@example.com"}
    )
    assert response.status_code == 302
    _clean(client.get(response["Location"]).content.decode(), "sent")
    client.post("/status/subscribe/", {"email-kind": "email", "email-email": "ana@example.com"})
    from ircore.models import Delivery

    confirmation = Delivery.objects.get(target="ana@example.com")
    url = re.search(r"/status/subscribe/confirm/[^\s/]+/", confirmation.body).group(0)
    _clean(client.get(url).content.decode(), "confirm page")
    _clean(client.post(url).content.decode(), "confirmed page")

    notice = seeded["live"].notices.get(subject="Payments delayed")
    assert subscribers.fan_out(notice) == 2  # ana and the other confirmed subscriber
    for drill_notice in seeded["drill"].notices.all():
        assert subscribers.fan_out(drill_notice) == 0
    for other in seeded["live"].notices.exclude(pk=notice.pk):
        assert subscribers.fan_out(other) == 0
    sent = Delivery.objects.filter(topic=f"comms.notice:{notice.pk}")
    assert sent.count() == 2
    for delivery in Delivery.objects.exclude(target__startswith="mkx-"):
        _clean(f"{delivery.subject}\n{delivery.body}\n{delivery.payload}", delivery.target)
    ana = sent.get(target="ana@example.com")
    unsubscribe = re.search(r"/status/unsubscribe/[^\s/]+/", ana.body).group(0)
    _clean(client.get(unsubscribe).content.decode(), "unsubscribe page")
    _clean(client.post(unsubscribe).content.decode(), "unsubscribed page")
    # The affected internal-only service is left out of the message as it is of the page.
    assert "Affected: Payments\n" in ana.body


def test_the_seeded_markers_are_really_there(seeded):
    """The leak test is only as good as its seeds: the internal data does hold the marks."""
    live = Incident.objects.get(pk=seeded["live"].pk)
    assert MARK in live.title.lower() and MARK in live.summary.lower()
    assert live.customers_affected == 987654
    assert live.timeline.filter(text__icontains=MARK).exists()
    assert Notice.objects.filter(subject__icontains=MARK).count() == 6
