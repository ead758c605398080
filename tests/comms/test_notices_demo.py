"""The demo's notices: on the open demo incident, a published customer notice (the status page
shows it), a published internal update, and a customer notice waiting in review; made through
the services, so the timeline and history tell their review."""

from pathlib import Path

import pytest

from comms.demo_notices import FILL_IN
from comms.models import InternalRoute, Notice, UpdateDue
from incidents.models import Incident, TimelineEntry
from ircore import policy
from ircore.demo import demo_load
from ircore.models import Delivery

POLICY = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"

pytestmark = pytest.mark.django_db


def test_the_demo_publishes_a_customer_notice_on_the_open_incident():
    policy.import_policy(policy.load_policy_file(POLICY))
    counts = demo_load(password="demo-pass")

    assert counts["notices"] == 2
    incident = Incident.objects.open().get()
    # (The status page's own demo may add a past incident with its updates.)
    public = Notice.objects.public().get(incident=incident)
    assert (public.incident, public.created_by.username, public.published_by.username) == (
        incident,
        "sam",
        "maria",
    )
    assert [c.slug for c in public.components.order_by("slug")] == ["payments-api", "webhooks"]
    # Drafted from the default policy's customer outage template, its fill-ins filled in.
    assert public.template.kind == "customer_outage"
    assert "Some card payments fail and webhook deliveries are delayed" in public.body
    assert not FILL_IN.search(public.body)
    steps = TimelineEntry.objects.filter(data__notice=public.pk).values_list(
        "data__step", flat=True
    )
    assert list(steps.order_by("occurred_at", "id")) == [
        "drafted",
        "submitted",
        "approved",
        "published",
    ]
    # The responder's internal update waits for review, and the cadence still shows the
    # internal update overdue. Sam leads the comms but, in Support, approves nothing: the IC
    # (Maria) is the one asked.
    internal = Notice.objects.get(audience="internal")
    assert internal.status == Notice.Status.IN_REVIEW
    asked = Delivery.objects.filter(dedupe_key__startswith=f"comms.notice:{internal.pk}:review")
    assert {row.recipient.username for row in asked} == {"maria"}
    assert (
        UpdateDue.objects.get(incident=incident, audience="internal", outcome="pending").reminded_at
        is not None
    )
    assert InternalRoute.objects.count() == 1
