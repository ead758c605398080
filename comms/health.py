"""What /healthz says about the update cadence (``ircore.health`` asks through the comms
AppConfig's ``health_checks`` hook): how late the reminders are.

``late_seconds`` is how long ago the oldest overdue update of an open incident that nobody
has been reminded of fell due (0 when none): the reconciler (``cadence_tick``, every 30 s)
reminds as soon as an update is overdue, so anything past ``REMINDER_LATE_AFTER`` means the
reminders are not leaving (workers, broker or beat down). One query on ``update_due_idx``.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from ircore.health import lateness

from .models import UpdateDue

REMINDER_LATE_AFTER = timedelta(seconds=120)


def reminder_lateness(*, now: datetime | None = None) -> dict:
    """``{"ok", "late_seconds", "oldest_due_at", "late_after_seconds"}``."""
    now = now or timezone.now()
    oldest = (
        UpdateDue.objects.overdue(now)
        .filter(reminded_at__isnull=True, incident__open_rank=1)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    return lateness(oldest, now=now, after=REMINDER_LATE_AFTER)


def health_checks() -> dict[str, dict]:
    """The comms app's entries in /healthz."""
    return {"update_cadence": reminder_lateness()}
