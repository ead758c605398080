"""Demo postmortem for a first run (``PostmortemsConfig.load_demo``): the resolved demo
incident's postmortem, written and in review, with three action items, one of them overdue.
Made through the services, so its timeline, history and reminders are real."""

from datetime import datetime, timedelta

from incidents.models import Incident

from .models import ActionItem
from .services.actions import action_item_create, action_item_set_status, action_reminders_due
from .services.postmortem_clock import postmortem_reminders_due
from .services.postmortems import (
    postmortem_open,
    postmortem_submit,
    postmortem_update,
    postmortems_open_missed,
)

DEMO_INCIDENT = "Merchant Dashboard reports slow to load"


def load_demo_postmortems(*, people: dict, services: dict, now: datetime) -> dict[str, int]:
    incident = Incident.objects.filter(title=DEMO_INCIDENT, resolved_at__isnull=False).first()
    if incident is None or not {"maria", "raj", "dana"} <= set(people):
        return {"postmortems": 0}
    maria, raj, dana = people["maria"], people["raj"], people["dana"]
    opened = incident.resolved_at + timedelta(minutes=30)
    pm = postmortem_open(incident=incident, user=maria, owner=raj, now=opened)
    postmortem_update(
        postmortem=pm,
        user=raj,
        now=opened + timedelta(hours=20),
        data={
            "summary": "For almost two hours, report pages of the Merchant Dashboard took 30 s "
            "or more for large merchants. A migration the day before had dropped the index on "
            "`report_rows(merchant_id)`; rebuilding it restored normal load times.",
            "user_impact": "Large merchants could not open their reports; refunds were delayed.",
            "business_impact": "No revenue lost; two merchant complaints to Support.",
            "immediate_cause": "Migration 0142 dropped and did not recreate the index.",
            "contributing_factors": "- Migrations are reviewed for data changes, not indexes.\n"
            "- Staging holds too little data for a missing index to show.",
            "five_whys": "1. Why were reports slow? Full scans of `report_rows`.\n"
            "2. Why? The index was gone.\n3. Why? The migration rebuilt the table without it.\n"
            "4. Why was that not caught? Review checks data, not indexes.\n"
            "5. Why? No check compares the schema before and after a migration.",
            "root_cause": "Schema changes reach production without a check of the indexes they "
            "drop.",
            "detection": "A merchant's ticket, 14 minutes after impact began; no alert fired.",
            "went_well": "Quick hypothesis from the migration log; the fix took five minutes.",
            "went_poorly": "Nothing alerted on page latency; Support heard first.",
            "lessons_learned": "Measure what merchants feel (page latency), not only errors.",
            "review_meeting_at": opened + timedelta(days=1),
            "attendees": [raj, dana, maria],
        },
    )
    created = now - timedelta(days=3)
    items = [
        # Overdue: due yesterday, still open (the reminder clock chases it).
        ("Alert on Merchant Dashboard p95 page latency", ActionItem.Kind.DETECT, dana, "p1",
         (now - timedelta(days=1)).date()),
        ("Check migrations for dropped indexes in CI", ActionItem.Kind.PREVENT, raj, "p2", None),
        ("Runbook: slow reports", ActionItem.Kind.PROCESS, raj, "p3", None),
    ]  # fmt: skip
    made = []
    for title, kind, owner, priority, due_on in items:
        data = {"title": title, "kind": kind, "owner": owner, "priority": priority}
        if due_on is not None:
            data["due_on"] = due_on
        made.append(action_item_create(user=raj, postmortem=pm, data=data, now=created))
    action_item_set_status(item=made[1], user=raj, status=ActionItem.Status.IN_PROGRESS, now=now)
    postmortem_submit(postmortem=pm, user=raj, now=now - timedelta(hours=2))
    # The story is in the past: the beats would have run meanwhile, so catch them up (the
    # other demo incidents' postmortems open, as their severity requires; the owners hear
    # what is overdue once; /healthz finds nothing waiting).
    postmortems_open_missed(now=now)
    reminders = postmortem_reminders_due(now=now) + action_reminders_due(now=now)
    return {"postmortems": 1, "action items": len(made), "reminders": reminders}
