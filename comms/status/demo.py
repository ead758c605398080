"""The status page's part of the demo (``CommsConfig.load_demo`` calls it): a payout delay
on Settlement ten days ago with its published customer updates (so the 90-day bars and
the past incident page show something), a maintenance window on Webhooks later this week,
and a confirmed subscriber.

The incident is made through the incident services. Its affected service's history is then
dated to the story (the services stamp history with the wall clock, and a demo tells of the
past): the uptime figures are built from that history, and this is what it would hold had
the changes been made at the time.
"""

from datetime import datetime, timedelta

from comms.models import Audience, Notice, Subscriber
from incidents import services as incidents
from incidents.alerts.services import maintenance_window_create
from incidents.models import Incident, IncidentService
from ircore.models import Severity

SUBSCRIBER = "customer@example.com"


def load_status_demo(*, people: dict, services: dict, now: datetime) -> dict[str, int]:
    levels = list(Severity.objects.order_by("rank")[:2])
    settlement, webhooks = services.get("settlement"), services.get("webhooks")
    if len(levels) < 2 or settlement is None:
        return {"status page incidents": 0}
    maria, raj, sam = people["maria"], people["raj"], people["sam"]
    t0 = (now - timedelta(days=10)).replace(hour=7, minute=10, second=0, microsecond=0)
    story = {
        "declared": t0,
        "major": t0 + timedelta(minutes=5),
        "partial": t0 + timedelta(minutes=50),
        "resolved": t0 + timedelta(hours=2, minutes=5),
    }
    incident = incidents.incident_declare(
        title="Settlement batch stuck after ledger failover",
        severity=levels[1],
        services=[settlement],
        summary="The 07:00 payout batch did not start after the ledger database failed over.",
        impact_started_at=t0 - timedelta(minutes=15),
        detected_at=t0 - timedelta(minutes=5),
        user=raj,
        now=t0,
    )
    incidents.affected_service_set(
        incident=incident, service=settlement, status="major_outage", user=raj, now=story["major"]
    )
    incidents.affected_service_set(
        incident=incident,
        service=settlement,
        status="partial_outage",
        user=raj,
        now=story["partial"],
    )
    incidents.incident_set_status(
        incident=incident,
        status=Incident.Status.RESOLVED,
        user=raj,
        note="Batch restarted on the new primary; all payouts sent.",
        now=story["resolved"],
    )
    _date_history(incident, story)

    updates = [
        (
            story["major"] + timedelta(minutes=10),
            "Payouts delayed",
            "Today's payouts to merchants are delayed. We are working on it and will update "
            "within 30 minutes.",
        ),
        (
            story["partial"] + timedelta(minutes=5),
            "Payouts resuming",
            "Payouts have started again and are being sent in order; some arrive later than usual.",
        ),
        (
            story["resolved"] + timedelta(minutes=5),
            "Payouts sent",
            "All of today's payouts have been sent. We are sorry for the delay.",
        ),
    ]
    for when, subject, body in updates:
        notice = Notice.objects.create(
            incident=incident,
            audience=Audience.CUSTOMERS,
            subject=subject,
            body=body,
            status=Notice.Status.PUBLISHED,
            created_by=sam,
            approved_by=maria,
            approved_at=when,
            published_by=maria,
            published_at=when,
        )
        notice.components.set([settlement])

    windows = 0
    if webhooks is not None:
        start = (now + timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
        maintenance_window_create(
            service=webhooks,
            start=start,
            end=start + timedelta(hours=1),
            reason="Queue cluster upgrade (demo)",
            user=maria,
            now=now,
        )
        windows = 1

    Subscriber.objects.create(
        kind=Subscriber.Kind.EMAIL,
        target=SUBSCRIBER,
        all_components=True,
        confirmed_at=now - timedelta(days=30),
        confirmation_sent_at=now - timedelta(days=30),
    )
    return {
        "status page incidents": 1,
        "status page updates": len(updates),
        "maintenance windows": windows,
        "status page subscribers": 1,
    }


def _date_history(incident: Incident, story: dict) -> None:
    """Give the affected service's history rows the times of the story, in order: the
    declaration's row, then each change."""
    rows = list(
        IncidentService.history.model.objects.filter(incident_id=incident.pk).order_by(
            "history_date", "history_id"
        )
    )
    for row, when in zip(rows, (story["declared"], story["major"], story["partial"]), strict=False):
        IncidentService.history.model.objects.filter(history_id=row.history_id).update(
            history_date=when
        )
