"""PagerDuty Events v2: a trigger repeating an alert that is firing carries the alert's
current summary and severity (a monitor says "disk 95%", then "disk 99%, critical"): the
alert takes them, and when the severity rises (a more severe level, a lower rank) the
timeline of the alert's incident says so. The incident's own severity is left to people
(``incident_change_severity``); the entry is what tells them. Other kinds' repeats only
count (Alertmanager's repeat the same alert until its labels, and so its key, change)."""

from datetime import datetime
from typing import TYPE_CHECKING

from ircore.models import Severity

from ...models import Incident, TimelineEntry
from ...services import timeline_add
from ..models import Alert, Integration
from . import routing
from .entries import drill_text
from .parse import TRIGGER

if TYPE_CHECKING:
    from .ingest import Planned


def refresh_repeats(
    *, integration: Integration, planned: list["Planned"], now: datetime, drill: bool
) -> int:
    """Update the repeated events' alerts whose summary or routed severity changed (one
    query for all, none when nothing changed); returns how many."""
    if integration.kind != Integration.Kind.EVENTS:
        return 0
    changed: list[tuple[Alert, Severity | None, int | None]] = []
    for p in planned:
        alert, route = p.existing, p.route
        if p.outcome != "repeat" or alert is None or p.parsed.action != TRIGGER:
            continue
        severity = route.severity if route is not None and route.severity else None
        summary = p.parsed.summary or alert.summary
        if summary != alert.summary or (severity and severity.pk != alert.severity_id):
            old = alert.severity_id
            alert.summary = summary
            if severity is not None:
                alert.severity_id = severity.pk
            changed.append((alert, severity if old != alert.severity_id else None, old))
    if not changed:
        return 0
    Alert.objects.bulk_update([alert for alert, _, _ in changed], ["summary", "severity"])
    levels = {s.pk: s for s in routing.router_for(integration).levels}
    for alert, severity, old in changed:
        before = levels.get(old)
        if severity is None or alert.incident_id is None or before is None:
            continue
        if severity.rank < before.rank:
            _risen_entry(integration, alert, before, severity, now, drill)
    return len(changed)


def _risen_entry(integration, alert: Alert, before, after, now: datetime, drill: bool) -> None:
    timeline_add(
        incident=Incident(pk=alert.incident_id),
        kind=TimelineEntry.Kind.ALERT,
        text=drill_text(
            f"Alert {alert.dedup_key} rose from {before.key} to {after.key} "
            f"(integration {integration.name}): {alert.summary[:200]}",
            drill,
        ),
        occurred_at=now,
        data={
            "integration": integration.slug,
            "action": "severity_raised",
            "alert": alert.pk,
            "from": before.key,
            "to": after.key,
        },
    )
