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
    """The regulator's clock for types that have one: due in, overdue by, or met."""
    kind = incident.incident_type
    due = incident.regulatory_due_at
    if kind is None or kind.regulatory_notification_hours is None or due is None:
        return None
    notified = incident.regulator_notified_at
    if notified is not None:
        if notified <= due:
            text = f"Regulator notified {humanise(due - notified)} before the deadline"
            level = "met"
        else:
            text = f"Regulator notified {humanise(notified - due)} after the deadline"
            level = "late"
    elif now <= due:
        text, level = f"Regulator notification due in {humanise(due - now)}", "due"
    else:
        text, level = f"Regulator notification OVERDUE by {humanise(now - due)}", "overdue"
    return {
        "text": text,
        "level": level,
        "due_at": due,
        "hours": kind.regulatory_notification_hours,
    }


# --- change list filters -------------------------------------------------------------------
