"""How a page reaches its person: one message through the kernel's notification service.

``page_notify`` is the engine's one call per new page to a person; personal notification
rules (several contact methods, each after its delay) replace this module's body.
"""

from datetime import datetime

from django.utils import timezone

from ircore.links import absolute_url
from ircore.notifications import Status as DeliveryStatus
from ircore.notifications import notify_user

from ..models import Page


def page_notify(*, page: Page, now: datetime | None = None) -> None:
    """Send ``page`` to its recipient once (the dedupe key is the page's), linking to the
    incident; records the delivery and the outcome (sent, or failed when no channel can reach
    the person) on the page. Call inside the engine's transaction: the message leaves after
    commit."""
    now = now or timezone.now()
    incident = page.incident
    drill = "DRILL: " if page.is_drill else ""
    subject = f"{drill}Page: {incident.reference} {incident.title}"[:300]
    lines = [
        f"{drill}You are paged about {incident.reference} ({incident.severity.key}): "
        f"{incident.title}.",
        f"Why: {page.target_label or 'escalation step'} (step {page.step}, round {page.repeat}).",
    ]
    if page.is_drill:
        lines.append("This is a DRILL: respond as you would, nothing is broken for real.")
    deliveries = notify_user(
        user=page.recipient,
        subject=subject,
        body="\n".join(lines),
        topic=f"incidents.incident:{incident.pk}",
        dedupe_key=f"oncall.page:{page.pk}",
        payload={"page": page.pk, "incident": incident.reference, "drill": page.is_drill},
        link=absolute_url(incident.get_absolute_url()),
    )
    page.delivery = deliveries[0] if deliveries else None
    failed = all(d.status == DeliveryStatus.FAILED for d in deliveries)
    page.status = Page.Status.FAILED if failed else Page.Status.SENT
    page.save(update_fields=["delivery", "status"])
