from celery import shared_task

from .services.cadence import cadence_tick


@shared_task
def cadence_due() -> int:
    """Beat, every 30 s: settle, plan and remind the updates due (idempotent; safe under two
    beats: each incident is reconciled under its row lock, skip_locked)."""
    return cadence_tick()


@shared_task
def prune_pending_subscribers() -> int:
    """Beat, daily: forget status page subscription requests nobody confirmed within a week."""
    from comms.services.subscribers import prune_pending

    return prune_pending()
