"""The demo's notices: on the open demo incident, a published customer notice (the status page
shows it), a published internal update, and a customer notice waiting in review; made through
the services, so the timeline and history tell their review."""

from pathlib import Path

import pytest

from comms.models import InternalRoute, Notice
from incidents.models import Incident, TimelineEntry
from ircore import policy
from ircore.demo import demo_load
from ircore.models import Delivery

POLICY = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"

pytestmark = pytest.mark.django_db


def test_the_demo_publishes_a_customer_notice_on_the_open_incident():
    policy.import_policy(policy.load_policy_file(POLICY))
    counts = demo_load(password="demo-pass")

    assert counts["notices"] == 3
    incident = Incident.objects.open().get()
    public = Notice.objects.public().get()
    assert (public.incident, public.created_by.username, public.published_by.username) == (
        incident,
        "sam",
        "maria",
    )
    assert [c.slug for c in public.components.order_by("slug")] == ["payments-api", "webhooks"]
    internal = Notice.objects.get(audience="internal")
    assert internal.status == Notice.Status.PUBLISHED
    assert set(
        Delivery.objects.filter(dedupe_key__startswith=f"comms.notice:{internal.pk}:")
        .exclude(subject__startswith="To review")
        .values_list("target", flat=True)
    ) == {"incidents@example.com", "payments@example.com", "platform@example.com"}
    assert Notice.objects.get(status=Notice.Status.IN_REVIEW).subject == "Card payments recovering"
    assert InternalRoute.objects.count() == 1
    steps = TimelineEntry.objects.filter(data__notice=public.pk).values_list(
        "data__step", flat=True
    )
    assert list(steps.order_by("occurred_at", "id")) == [
        "drafted",
        "submitted",
        "approved",
        "published",
    ]
