"""The status page's demo: a past incident whose history colours the bars, its published
updates on its page, upcoming maintenance, a confirmed subscriber."""

import pytest
import time_machine
from django.utils import timezone

from comms.models import Subscriber
from comms.status.demo import load_status_demo

from .statuskit import service, severity

pytestmark = pytest.mark.django_db


def test_demo_shows_on_the_page(client, make_user):
    with time_machine.travel("2025-03-20 12:00:00+00:00", tick=False):
        now = timezone.now()
        severity("SEV-1", 1), severity("SEV-2", 2)
        people = {name: make_user(name) for name in ("maria", "raj", "sam")}
        services = {
            "settlement": service("Settlement"),
            "webhooks": service("Webhooks"),
        }
        counts = load_status_demo(people=people, services=services, now=now)
        assert counts["status page incidents"] == 1
        html = client.get("/status/").content.decode()
    # Impact from 06:55 (degraded until 07:15), major 45 min, partial 75 min counted 30%.
    assert (
        '<li class="d3" title="10 Mar 2025 · 95.31% · major outage 45 min, '
        'partial outage 1 h 15 min, degraded performance 20 min">'
    ) in html
    assert ">Payouts delayed</a>" in html  # under past incidents
    assert "Scheduled maintenance: Webhooks" in html
    assert "Queue cluster" not in html
    assert Subscriber.objects.active().get().target == "customer@example.com"
