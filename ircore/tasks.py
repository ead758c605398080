from celery import shared_task
from django.utils import timezone

from . import notifications
from .models import Delivery, Heartbeat


@shared_task
def heartbeat() -> None:
    Heartbeat.objects.update_or_create(name="clock", defaults={"last_seen": timezone.now()})


@shared_task
def send_delivery_task(delivery_id: int) -> None:
    """Send one delivery soon after it is created; the reconciler covers a lost message."""
    try:
        notifications.deliver(delivery_id=delivery_id)
    except Delivery.DoesNotExist:  # deleted before the worker got to it: nothing to send
        return


@shared_task
def send_due_deliveries() -> int:
    """Beat, every 30 s: send queued deliveries and retries whose backoff is over."""
    return notifications.send_due()
