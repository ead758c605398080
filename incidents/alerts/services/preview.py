"""What a pasted payload would become, storing nothing (the admin's "try a payload")."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ircore.errors import RuleError
from ircore.models import Service, Severity

from ...models import Incident
from ...services._base import _now
from ..models import Integration
from .heartbeats import is_watchdog
from .ingest import plan
from .parse import TRIGGER, PayloadError, parse


@dataclass(frozen=True)
class AlertPreview:
    dedup_key: str
    title: str
    action: str  # trigger, resolve, acknowledge
    service: Service | None
    severity: Severity | None
    outcome: str  # new incident, joins, repeat, resolves, resolved, suppressed, not routed...
    incident: Incident | None  # the open incident it joins, repeats into or resolves in

    @property
    def description(self) -> str:
        ref = self.incident.reference if self.incident else ""
        return {
            "new incident": "new incident",
            "joins": f"joins {ref}",
            "repeat": f"repeat of a firing alert{f' in {ref}' if ref else ''}",
            "suppressed": "recorded, suppressed by a maintenance window",
            "not routed": "recorded, declares nothing (no service routed)",
            "heartbeat ping": "a ping of this integration's heartbeat (Watchdog; not stored)",
            "ignored": "ignored (a resolved Watchdog is no ping; not stored)",
        }.get(self.outcome, self.outcome)


def _watchdog(parsed) -> "AlertPreview":
    firing = parsed.action == TRIGGER
    return AlertPreview(
        dedup_key=parsed.dedup_key,
        title=parsed.summary or parsed.dedup_key,
        action=parsed.action,
        service=None,
        severity=None,
        outcome="heartbeat ping" if firing else "ignored",
        incident=None,
    )


def preview(
    *, integration: Integration, payload: Any, now: datetime | None = None
) -> list[AlertPreview]:
    """Parse ``payload`` as ``integration``'s kind and plan it; a payload error is a
    ``RuleError`` on ``payload`` naming the field."""
    try:
        alerts = parse(integration.kind, payload)
    except PayloadError as exc:
        raise RuleError(str(exc), field="payload") from None
    # Ingestion takes Watchdog alerts as pings before anything else: so does the preview.
    watchdogs = {n: _watchdog(a) for n, a in enumerate(alerts) if is_watchdog(integration, a)}
    alerts = [a for n, a in enumerate(alerts) if n not in watchdogs]
    planned = plan(integration=integration, alerts=alerts, now=_now(now))
    ids = {p.incident_id or (p.existing.incident_id if p.existing else None) for p in planned}
    ids.discard(None)
    incidents = Incident.objects.in_bulk(ids) if ids else {}
    previews = iter(
        AlertPreview(
            dedup_key=p.parsed.dedup_key,
            title=p.parsed.summary or (p.existing.summary if p.existing else p.parsed.dedup_key),
            action=p.parsed.action,
            service=p.service or (p.existing.service if p.existing else None),
            severity=p.severity or (p.existing.severity if p.existing else None),
            outcome=p.outcome,
            incident=incidents.get(
                p.incident_id or (p.existing.incident_id if p.existing else None)
            ),
        )
        for p in planned
    )
    total = len(alerts) + len(watchdogs)
    return [watchdogs[n] if n in watchdogs else next(previews) for n in range(total)]
