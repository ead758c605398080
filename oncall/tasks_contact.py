"""The beat task for personal notification rules (oncall.services.contact).

Registered through ``imports`` in ``config.celery`` (autodiscovery only finds ``tasks.py``).
"""

from celery import shared_task

from .services.contact import page_attempts_send_due


@shared_task
def send_due_page_attempts() -> int:
    """Beat, every 15 s: send the page attempts whose rule's delay has passed, for pages
    that still notify (idempotent; safe under two beats)."""
    return page_attempts_send_due()
