"""Celery app and the one beat schedule.

Every entry is a reconciler: it reads what is due from indexed columns and does it,
so a lost tick only delays work. Later apps add their entries here, each through ``every()``
so that it expires before the next tick (tests/ircore/test_beat.py checks both).
"""

import os

from celery import Celery
from celery.schedules import crontab  # noqa: F401  (used by later entries)
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("incident_response")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def every(seconds: float) -> dict:
    """A tick every ``seconds`` that expires a little before the next one: after a broker or
    worker outage the queue holds at most one tick per entry, not every tick beat sent
    meanwhile (a reconciler's next tick does all that is due anyway)."""
    return {"schedule": seconds, "options": {"expires": seconds * 0.8}}


app.conf.beat_schedule = {
    # Every 30 s: records the clock's heartbeat so /healthz can tell beat is alive.
    "clock-heartbeat": {"task": "ircore.tasks.heartbeat", **every(30.0)},
    # Every 30 s: sends queued notifications and retries failed ones whose backoff is over.
    "deliveries-due": {"task": "ircore.tasks.send_due_deliveries", **every(30.0)},
    # Every 60 s: tells the people handing off and taking over, with the open incidents they
    # inherit (oncall.services.handoffs_send_due: due layers by next_handoff_at, idempotent).
    "oncall-handoffs": {"task": "oncall.tasks.send_due_handoffs", **every(60.0)},
    # Every 15 s: the later messages of pages along each person's notification rules (chat
    # after 2 min, SMS webhook after 5 ...), for pages still live (page_attempts_send_due: due
    # attempts by due_at, row-locked, idempotent).
    "page-attempts-due": {"task": "oncall.tasks.send_due_page_attempts", **every(15.0)},
    # Every few seconds: pages the escalation steps that are due (oncall.services.escalation:
    # due escalations by next_escalation_at, each claimed with skip_locked; safe under two beats).
    "escalations-due": {
        "task": "oncall.tasks.escalations_due",
        **every(settings.ESCALATION_TICK_SECONDS),
    },
    # Every 60 s: raises one alert per integration whose heartbeat ping is overdue
    # (incidents.alerts.services.heartbeats_check: due by heartbeat_due_at, idempotent).
    "heartbeats-due": {"task": "incidents.tasks.check_heartbeats", **every(60.0)},
    # Every 30 s: the updates incidents owe by their severity's cadence: settles the missed,
    # plans what a signal missed, reminds the Communications Lead of what is overdue
    # (comms.services.cadence.cadence_tick: pending updates by outcome, due_at; each
    # incident under its row lock, skip_locked; idempotent, safe under two beats).
    "update-cadence": {"task": "comms.tasks.cadence_due", **every(30.0)},
    # Daily: forgets status page subscription requests nobody confirmed within a week
    # (comms.services.subscribers.prune_pending: by created_at, idempotent).
    "status-pending-subscribers": {
        "task": "comms.tasks.prune_pending_subscribers",
        **every(86400.0),
    },
    # Every 5 min: opens the postmortems a resolution signal missed (incidents resolved in
    # the last 30 days; one per incident, unique) and moves the policy deadlines of incidents
    # resolved again.
    "postmortems-open-missed": {
        "task": "postmortems.tasks.open_missed_postmortems",
        **every(300.0),
    },
    # Every 5 min: postmortem reminders (before the deadline, daily while overdue, the
    # manager once a day overdue): due rows by next_reminder_at, skip_locked, stamps and
    # dedupe keys.
    "postmortem-reminders": {"task": "postmortems.tasks.send_postmortem_reminders", **every(300.0)},
    # Every 15 min: action item reminders (3 days before due, weekly while overdue), the same
    # guards.
    "action-item-reminders": {
        "task": "postmortems.tasks.send_action_item_reminders",
        **every(900.0),
    },
    # Hourly at :07 on the 1st to the 7th: mails Leadership the last month's report once
    # (postmortems.reports.mail: a unique row per month claimed with skip_locked; the later
    # ticks find it sent, and a beat down on the 1st only delays the mail).
    "reports-monthly-mail": {
        "task": "postmortems.reports.send_monthly_report",
        "schedule": crontab(minute=7, day_of_month="1-7"),
        "options": {"expires": 3000.0},
    },
}
