"""Display helpers shared by the incident pages: ages, durations, the regulatory clock."""

from datetime import datetime, timedelta
from typing import Any

from ..models import (
    Incident,
)


def humanise(delta: timedelta) -> str:
    """A duration as people say it in an incident: 12m, 2h 10m, 41h 12m, 5d 3h."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes}m"
    # Up to three days in hours: regulatory clocks (72h) are counted that way.
    if hours < 72:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def age_text(incident: Incident, now: datetime) -> str:
    if incident.resolved_at is not None:
        return f"resolved after {humanise(incident.resolved_at - incident.declared_at)}"
    return f"open for {humanise(now - incident.declared_at)}"


def regulatory_state(incident: Incident, now: datetime) -> dict[str, Any] | None:
    """The regulator's clock (``Incident.regulatory_clock``) in words: due in, overdue by,
    or met."""
    clock = incident.regulatory_clock(now)
    if clock is None:
        return None
    due, notified = clock.due_at, clock.notified_at
    text = {
        "met": lambda: f"Regulator notified {humanise(due - notified)} before the deadline",
        "late": lambda: f"Regulator notified {humanise(notified - due)} after the deadline",
        "due": lambda: f"Regulator notification due in {humanise(due - now)}",
        "overdue": lambda: f"Regulator notification OVERDUE by {humanise(now - due)}",
    }[clock.level]()
    kind = incident.incident_type
    return {
        "text": text,
        "level": clock.level,
        "due_at": due,
        # The hours the type states today; the deadline itself was fixed when it was set.
        "hours": kind.regulatory_notification_hours if kind else None,
    }


# --- change list filters -------------------------------------------------------------------
