"""What /healthz says about the learning clocks (``ircore.health`` asks through the
postmortems AppConfig's ``health_checks`` hook): how late the postmortem and action item
reminders are.

Each reminder beat sends what is due by ``next_reminder_at`` and moves it on, so a row whose
reminder time passed more than two beats ago means the reminders are not leaving (workers,
broker or beat down). ``late_seconds`` is how long ago the oldest such reminder fell due (0
when none). One query each, on the rows' partial ``next_reminder_at`` indexes.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from .models import ActionItem, Postmortem

# Two beats of each (config/celery.py: every 5 and every 15 minutes) and a minute of slack.
LATE_AFTER = {
    "postmortem_reminders": (Postmortem, timedelta(minutes=11)),
    "action_item_reminders": (ActionItem, timedelta(minutes=31)),
}


def reminder_lateness(model: type, late_after: timedelta, *, now: datetime) -> dict:
    """``{"ok", "late_seconds", "oldest_due_at", "late_after_seconds"}``."""
    oldest = (
        model.objects.filter(next_reminder_at__lte=now)
        .order_by("next_reminder_at")
        .values_list("next_reminder_at", flat=True)
        .first()
    )
    late = max(0, int((now - oldest).total_seconds())) if oldest is not None else 0
    return {
        "ok": late <= late_after.total_seconds(),
        "late_seconds": late,
        "oldest_due_at": oldest.isoformat() if oldest is not None else None,
        "late_after_seconds": int(late_after.total_seconds()),
    }


def health_checks(*, now: datetime | None = None) -> dict[str, dict]:
    """The postmortems app's entries in /healthz."""
    now = now or timezone.now()
    return {
        name: reminder_lateness(model, late_after, now=now)
        for name, (model, late_after) in LATE_AFTER.items()
    }
