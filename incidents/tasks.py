from celery import shared_task

from .alerts.services import heartbeats_check


@shared_task
def check_heartbeats() -> int:
    """Beat, every minute: raise the alert of each integration whose ping is overdue (once)."""
    return heartbeats_check()
