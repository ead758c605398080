"""Step 3: the beat reconciler that sends what is due, and the admin's retry."""

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..errors import ConflictError
from ..models import Delivery
from ._common import Status
from .create import _enqueue_on_commit
from .send import _deliver


def due_deliveries(*, now: datetime):
    """Queued or retrying rows whose time has come (no time yet means now); uses
    ``delivery_due_idx``."""
    return Delivery.objects.filter(status__in=[Status.QUEUED, Status.RETRYING]).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def send_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send up to ``limit`` due deliveries, oldest due first; returns how many were attempted.
    Rows another worker claims meanwhile are skipped by ``deliver``.

    ``now`` only selects what is due: each delivery is claimed, leased and backed off on the
    clock at its own turn, since a slow batch (dead endpoints timing out) can outlast a lease;
    claiming on the batch's start time would hand out leases that have already run out.
    """
    injected = now  # tests pin the whole batch to one instant
    now = now or timezone.now()
    ids = list(
        due_deliveries(now=now)
        .order_by(F("next_attempt_at").asc(nulls_first=True), "id")
        .values_list("pk", flat=True)[:limit]
    )
    attempted = 0
    for delivery_id in ids:
        try:
            attempted += _deliver(delivery_id, injected)[1]
        except Delivery.DoesNotExist:  # deleted since the list was read
            continue
    return attempted


def withdraw(*, delivery_ids, reason: str) -> int:
    """Take back messages that are no longer wanted before a worker sends them (a page
    acknowledged while its message waited for the broker or for its next retry): queued and
    retrying rows among ``delivery_ids`` become failed with ``reason``; sent and failed rows
    are left as they are. Returns how many were withdrawn. A row a worker is sending at this
    instant may still go (its success is recorded, being true); every later attempt is off."""
    ids = [pk for pk in delivery_ids if pk is not None]
    if not ids:
        return 0
    return Delivery.objects.filter(pk__in=ids, status__in=[Status.QUEUED, Status.RETRYING]).update(
        status=Status.FAILED,
        next_attempt_at=None,
        last_error=reason[:1000],
    )


def retry_now(*, delivery: Delivery) -> Delivery:
    """Queue a failed delivery again (attempts are kept, so it gets one more try) and send it
    after commit. Only failed rows: queued and retrying ones are already on their way."""
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status=Status.FAILED).update(
            status=Status.QUEUED, next_attempt_at=None
        )
        if not updated:
            current = Delivery.objects.filter(pk=delivery.pk).first()
            state = current.get_status_display().lower() if current else "deleted"
            raise ConflictError(
                f"Only failed deliveries can be retried; this one is {state}.", field="status"
            )
        _enqueue_on_commit(delivery.pk)
    delivery.refresh_from_db()
    return delivery
