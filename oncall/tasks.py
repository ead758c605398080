from celery import shared_task

from .services import handoffs_send_due


@shared_task
def send_due_handoffs() -> int:
    """Beat, every minute: tell the people handing off and taking over (idempotent)."""
    return handoffs_send_due()
