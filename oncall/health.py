"""What /healthz says about paging (``ircore.health`` asks through the on-call AppConfig's
``health_checks`` hook): how late the escalation engine is.

``late_seconds`` is how long ago the oldest escalation that is due should have been handled
(``Escalation.next_escalation_at`` in the past: the engine's tick has not got to it), 0 when
nothing is overdue. The engine ticks every few seconds, so anything past
``ESCALATION_LATE_AFTER`` means pages are not leaving: the workers, the broker or every
beat is down. The lateness is the engine's own ``clock_lag``; two queries on the partial
index the engine's tick uses.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from ircore.health import lateness

from .models import Escalation
from .services.escalation import clock_lag

ESCALATION_LATE_AFTER = timedelta(seconds=60)


def escalation_lateness(*, now: datetime | None = None) -> dict:
    """``{"ok", "late_seconds", "due", "oldest_due_at"}`` for the escalations due by now."""
    now = now or timezone.now()
    lag = clock_lag(now=now)
    oldest_due = now - lag if lag is not None else None
    return {
        **lateness(oldest_due, now=now, after=ESCALATION_LATE_AFTER),
        "due": Escalation.objects.due(now).count(),
    }


def health_checks() -> dict[str, dict]:
    """The on-call app's entries in /healthz."""
    return {"escalation": escalation_lateness()}
