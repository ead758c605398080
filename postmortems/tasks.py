from celery import shared_task

from .services.actions import action_reminders_due
from .services.postmortem_clock import postmortem_reminders_due
from .services.postmortems import postmortems_open_missed


@shared_task
def open_missed_postmortems() -> int:
    """Beat, every 5 min: open the postmortems the resolution signal missed (idempotent: one
    postmortem per incident, under a unique constraint)."""
    return postmortems_open_missed()


@shared_task
def send_postmortem_reminders() -> int:
    """Beat, every 5 min: remind owners before the deadline, daily while overdue, and their
    manager once overdue by a day (due rows by next_reminder_at, row-locked, deduped)."""
    return postmortem_reminders_due()


@shared_task
def send_action_item_reminders() -> int:
    """Beat, every 15 min: remind action item owners before the due date and weekly while
    overdue (due rows by next_reminder_at, row-locked, deduped)."""
    return action_reminders_due()
