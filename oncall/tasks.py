from celery import shared_task

from .services import handoffs_send_due
from .services.contact import page_attempts_send_due
from .services.escalation import escalation_tick


@shared_task
def send_due_handoffs() -> int:
    """Beat, every minute: tell the people handing off and taking over (idempotent)."""
    return handoffs_send_due()


@shared_task
def escalations_due() -> int:
    """Beat, every ESCALATION_TICK_SECONDS: page what is due (idempotent, safe under two
    beats: each escalation is claimed with a row lock)."""
    return escalation_tick()


@shared_task
def escalate_incident(incident_id: int) -> int:
    """Right after a declaration: page this incident's first steps now, not at the tick."""
    return escalation_tick(incident_ids=[incident_id])


@shared_task
def send_due_page_attempts() -> int:
    """Beat, every 15 s: send the page attempts whose rule's delay has passed, for pages
    that still notify (idempotent; safe under two beats)."""
    return page_attempts_send_due()
