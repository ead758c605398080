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

from ircore.health import beat_every, lateness

from .models import ActionItem, Postmortem

# Each check: its rows and the beat task that sends their reminders (with the interval to
# assume where the schedule does not say).
REMINDERS = {
    "postmortem_reminders": (Postmortem, "postmortems.tasks.send_postmortem_reminders", 300.0),
    "action_item_reminders": (ActionItem, "postmortems.tasks.send_action_item_reminders", 900.0),
}


def late_after(name: str) -> timedelta:
    """Two of the task's beats (as the schedule has them) and a minute of slack."""
    _, task, default = REMINDERS[name]
    return timedelta(seconds=2 * beat_every(task, default) + 60)


def reminder_lateness(model: type, after: timedelta, *, now: datetime) -> dict:
    """``{"ok", "late_seconds", "oldest_due_at", "late_after_seconds"}``."""
    oldest = (
        model.objects.filter(next_reminder_at__lte=now)
        .order_by("next_reminder_at")
        .values_list("next_reminder_at", flat=True)
        .first()
    )
    return lateness(oldest, now=now, after=after)


def health_checks(*, now: datetime | None = None) -> dict[str, dict]:
    """The postmortems app's entries in /healthz."""
    now = now or timezone.now()
    return {
        name: reminder_lateness(model, late_after(name), now=now)
        for name, (model, _, _) in REMINDERS.items()
    }
