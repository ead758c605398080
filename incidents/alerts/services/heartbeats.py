"""Heartbeats (a dead man's switch): an integration with ``heartbeat_every`` expects a ping
that often. ``heartbeat_due_at`` = last ping + every + grace; the beat reconciler
``heartbeats_check`` raises one alert through the ingest path for each integration past it
("no heartbeat from NAME for 45 min") and clears the due time, so it raises once; the next
ping resolves that alert and sets the due time again.

Watchdog: Alertmanager's always-firing ``alertname="Watchdog"`` alert, posted to an
Alertmanager integration (route it with ``repeat_interval`` shorter than ``heartbeat_every``),
counts as a ping of that integration and is never stored as an alert: it monitors the
monitoring pipeline itself. A resolved Watchdog is not a ping.
"""

from datetime import datetime

from django.db import transaction

from ...services._base import _now
from ..models import Alert, Integration
from . import ingest as _ingest
from .parse import RESOLVE, TRIGGER, ParsedAlert

HEARTBEAT_KEY = "heartbeat"
WATCHDOG = "Watchdog"
BATCH = 500


def _due_after(integration: Integration, now: datetime) -> datetime | None:
    if integration.heartbeat_every is None:
        return None
    return now + integration.heartbeat_every + integration.heartbeat_grace


def _labels(integration: Integration) -> dict[str, str]:
    return {"alertname": "Heartbeat", "integration": integration.slug}


def _resumed(integration: Integration) -> ParsedAlert:
    # The raised alert's labels too: an integration that deduplicates on labels keys both
    # the same way, so the resolve finds the alert it raised.
    return ParsedAlert(
        dedup_key=HEARTBEAT_KEY,
        summary="Heartbeat resumed",
        action=RESOLVE,
        labels=_labels(integration),
        raw={"ping": True},
    )


def _key(integration: Integration) -> str:
    """The key ingestion gives the heartbeat alert: ``heartbeat``, or the integration's
    ``dedup_labels`` key of its labels (they apply to it as to any alert)."""
    return _ingest._key(integration, _resumed(integration))


def _record_ping(integration: Integration, now: datetime) -> bool:
    """Stamp the ping; True if a heartbeat alert is firing and should now resolve."""
    due = _due_after(integration, now)
    Integration.objects.filter(pk=integration.pk).update(last_ping_at=now, heartbeat_due_at=due)
    integration.last_ping_at, integration.heartbeat_due_at = now, due
    return Alert.objects.filter(
        integration=integration,
        dedup_key=_key(integration),
        status=Alert.Status.FIRING,
        is_drill=False,
    ).exists()


def heartbeat_ping(*, integration: Integration, now: datetime | None = None) -> bool:
    """A ping: the next one is due from now; a firing heartbeat alert resolves. Returns
    whether it resolved one."""
    now = _now(now)
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        if not _record_ping(locked, now):
            return False
        _ingest.ingest(integration=locked, alerts=[_resumed(locked)], now=now)
    return True


def heartbeat_rearm(*, integration: Integration, now: datetime | None = None) -> bool:
    """An integration enabled again expects its next ping from now. While it was disabled
    its pings were refused (403) and ``heartbeats_check`` stopped expecting any (due time
    cleared): without this, the switch stayed off until a ping that a dead monitor never
    sends. Returns whether a heartbeat is expected."""
    now = _now(now)
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        if not locked.enabled or locked.heartbeat_every is None:
            return False
        locked.heartbeat_due_at = _due_after(locked, now)
        Integration.objects.filter(pk=locked.pk).update(heartbeat_due_at=locked.heartbeat_due_at)
    integration.heartbeat_due_at = locked.heartbeat_due_at
    return True


def is_watchdog(integration: Integration, alert: ParsedAlert) -> bool:
    """Alertmanager's Watchdog, posted to an Alertmanager integration: never stored as an
    alert; firing, it is a ping (``watchdog_pings``; the try box says so too)."""
    return (
        integration.kind == Integration.Kind.ALERTMANAGER
        and alert.labels.get("alertname") == WATCHDOG
    )


def watchdog_pings(
    *, integration: Integration, alerts: list[ParsedAlert], now: datetime
) -> list[ParsedAlert]:
    """Called by ``ingest`` on the locked integration: Watchdog alerts become a ping (and
    the heartbeat alert's resolve); the others are returned to be ingested."""
    rest = [a for a in alerts if not is_watchdog(integration, a)]
    if len(rest) == len(alerts):
        return alerts
    firing = any(is_watchdog(integration, a) and a.action == TRIGGER for a in alerts)
    if firing and _record_ping(integration, now):
        rest.append(_resumed(integration))
    return rest


def _minutes(integration: Integration, now: datetime) -> int:
    since = integration.last_ping_at
    if since is None:  # never pinged: since the heartbeat was switched on
        since = (
            integration.heartbeat_due_at - integration.heartbeat_grace - integration.heartbeat_every
        )
    return max(1, round((now - since).total_seconds() / 60))


def heartbeats_check(*, now: datetime | None = None) -> int:
    """Beat: raise the alert of each integration whose ping is overdue (``heartbeat_due_at``,
    indexed), once. Rows another worker holds are skipped. Returns how many were raised."""
    now = _now(now)
    due = Integration.objects.filter(heartbeat_due_at__lte=now)
    # Nothing to expect any more (disabled, or the heartbeat switched off): nothing is due.
    due.filter(enabled=False).update(heartbeat_due_at=None)
    due.filter(heartbeat_every__isnull=True).update(heartbeat_due_at=None)
    raised = 0
    for pk in list(due.order_by("heartbeat_due_at").values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            integration = (
                Integration.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, heartbeat_due_at__lte=now, enabled=True)
                .first()
            )
            if integration is None:  # pinged meanwhile, or another worker has it
                continue
            minutes = _minutes(integration, now)
            started = integration.heartbeat_due_at - integration.heartbeat_grace
            Integration.objects.filter(pk=pk).update(heartbeat_due_at=None)
            alert = ParsedAlert(
                dedup_key=HEARTBEAT_KEY,
                summary=f"No heartbeat from {integration.name} for {minutes} min",
                labels=_labels(integration),
                starts_at=min(started, now),
                raw={"heartbeat": True, "last_ping_at": str(integration.last_ping_at)},
            )
            _ingest.ingest(integration=integration, alerts=[alert], now=now)
            raised += 1
    return raised
