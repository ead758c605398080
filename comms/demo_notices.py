"""Demo notices for a first run, loaded by ``CommsConfig.load_demo`` after the cadence's part:
made through the notice services, so their review, timeline and history are real.

On the open incident: the support agent's customer notice, approved and published by the
incident manager (the status page shows it, its subscribers hear of it), and an internal
update the responder wrote, waiting in review for the manager (the internal update the
cadence shows overdue). An "every incident" e-mail list is the internal route its page names
besides the teams' own addresses. The customer notice is drafted from the shipped customer
outage template when the policy has one, by hand otherwise.
"""

import re
from datetime import datetime, timedelta

from incidents.models import Incident
from ircore.models import NotificationEndpoint

from .models import Audience, InternalRoute, Template
from .services import notices

DEMO_LIST = "incidents@example.com"
# A template's "[fill this in]" (not a Markdown link's "[text](url)").
FILL_IN = re.compile(r"\[[^\]\n]+\](?!\()")
IMPACT = "Some card payments fail and webhook deliveries are delayed"


def load_demo(*, people: dict, services: dict, now: datetime) -> dict[str, int]:
    incident = Incident.objects.open().real().order_by("-declared_at", "-id").first()
    needed = ("maria", "raj", "sam")
    if incident is None or any(name not in people for name in needed):
        return {"notices": 0}
    maria, raj, sam = (people[name] for name in needed)

    # Every incident's internal updates go to one distribution list (besides the team's own).
    every = NotificationEndpoint.objects.create(
        name="All incidents (e-mail)", kind=NotificationEndpoint.Kind.EMAIL, target=DEMO_LIST
    )
    InternalRoute.objects.create(endpoint=every)

    template = (
        Template.objects.filter(
            active=True, audience=Audience.CUSTOMERS, kind=Template.Kind.CUSTOMER_OUTAGE
        )
        .order_by("name")
        .first()
    )
    by_hand = {
        "subject": "Card payments failing for some merchants",
        "body": (
            "We are investigating errors affecting **card payments** for some merchants. "
            "Webhook deliveries may be delayed.\n\nWe will post an update within 30 minutes."
        ),
    }
    start = now - timedelta(minutes=10)
    customer = notices.draft(
        incident=incident,
        user=sam,
        audience=Audience.CUSTOMERS,
        template=template,
        **({} if template else by_hand),
        now=start,
    )
    if template is not None and FILL_IN.search(customer.body):
        # The shipped templates leave "[Description of ...]" for the writer, as Sam does.
        body = FILL_IN.sub(IMPACT, customer.body)
        notices.update(notice=customer, user=sam, body=body)
    notices.submit(notice=customer, user=sam, now=start + timedelta(minutes=1))
    notices.approve(notice=customer, user=maria, now=start + timedelta(minutes=3))
    notices.publish(customer, user=maria, now=start + timedelta(minutes=4))

    internal = notices.draft(
        incident=incident,
        user=raj,
        audience=Audience.INTERNAL,
        subject="Update: rolling the card gateway back to v2.31",
        body=(
            "Errors began with the card gateway deploy (v2.32); the rollback is under way. "
            "Webhooks are delayed, not lost.\n\nNext update in 15 minutes."
        ),
        now=start + timedelta(minutes=5),
    )
    notices.submit(notice=internal, user=raj, now=start + timedelta(minutes=5))
    return {"notices": 2, "internal routes": 1}
