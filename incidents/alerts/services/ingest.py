"""Ingestion: posted alerts deduplicated, grouped into incidents, declared, resolved,
acknowledged. One transaction per request, a fixed number of queries whatever the number of
open alerts (bulk reads and writes; nothing is read per alert).

1. Lock and read in one round trip (``lookup.read``; PostgreSQL, SQLite serialises writers
   on its database lock and runs the same reads one by one): set ``lock_timeout``, take a
   key-share lock on the integration row, reading whether it is still enabled with this
   token (an edit of the integration waits for the deliveries in flight, and they for it),
   and a transaction-level advisory lock per dedup bucket of (integration, dedup key), so
   two deliveries of the same alert serialise (the second sees the first's row and counts a
   repeat) while deliveries of other alerts to the same integration run side by side. The
   partial unique index on firing (integration, dedup_key, is_drill) is the last line of
   defence. The same round trip reads what planning needs.
2. Plan (shared with ``preview``): routing (in memory, ``routing.router_for``), the firing
   alerts with these keys, and for each service a new alert routes to, its active
   maintenance window and the incident a new alert joins. An alert suppressed by a window
   that has ended is planned as new at its next arrival (``released``).
3. Write: repeats bump ``repeat_count``; resolves record; acknowledges acknowledge the
   incident through ``incident_acknowledge``; new alerts join their service's group or
   declare through ``incident_declare``, like a person (the integration acts as the system,
   ``user=None``, and an ``alert`` entry says which alert and integration declared it).

Drills: ``ingest(drill=True)`` (a caller in Python rehearsing; the wire cannot ask for it)
stores drill alerts, which deduplicate only against drill alerts and join or declare only
drill incidents (``is_drill``); a real alert never joins a drill incident, nor a drill alert
a real one. Their timeline entries start with "DRILL:". A drill delivery pings no heartbeat.

Grouping: a new firing alert joins the open incident of its service that received a new
alert within the receiving integration's ``group_window`` (a sliding window, so a long storm
stays one incident); an open incident nobody fed alerts to is left alone. Each attachment is
one ``alert`` timeline entry per incident per delivery (a batch of 1,000 alerts is one
entry), and repeats only bump ``repeat_count``. Joining reads the target without a lock (an
alert joining an incident creates nothing another delivery could duplicate); only when there
is none to join, an advisory lock per service serialises the check and the declaration, so
two integrations alerting on one service at once make one incident.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, F

from ircore.errors import ConflictError
from ircore.models import Service, Severity

from ...models import Incident, TimelineEntry
from ...services import incident_acknowledge, incident_declare, incident_set_status, timeline_add
from ...services._base import EARLIEST, _now
from ..models import Alert, Integration
from . import heartbeats, locks, lookup, refresh, routing
from .entries import attached_entry, declared_entry, drill_text
from .lookup import Found
from .parse import ACKNOWLEDGE, RESOLVE, TRIGGER, ParsedAlert, key_from_labels
from .routing import Route

FIRING, RESOLVED = Alert.Status.FIRING, Alert.Status.RESOLVED
TITLE_LIMIT = Incident._meta.get_field("title").max_length


@dataclass
class Planned:
    parsed: ParsedAlert
    existing: Alert | None = None
    service: Service | None = None
    severity: Severity | None = None
    window_id: int | None = None  # the maintenance window that suppresses a new alert
    incident_id: int | None = None  # the open incident a new alert joins
    repeat_of: "Planned | None" = None  # the same key earlier in this delivery
    repeats: int = 0  # later copies of this new alert in the same delivery
    closed_by: "Planned | None" = None  # its resolve, later in the same delivery
    # Still firing from a maintenance window that has ended: planned as new, and its row
    # (kept, with the window as the record of why nobody was paged) takes the outcome.
    released: Alert | None = None
    route: Route | None = None  # a trigger's routing (a repeat's: what it routes to now)

    @property
    def outcome(self) -> str:
        action = self.parsed.action
        if action == ACKNOWLEDGE:
            return "acknowledges" if self.existing else "unknown alert"
        if action == RESOLVE:
            return "resolves" if self.existing or self.repeat_of else "resolved"
        if self.existing or self.repeat_of:
            return "repeat"
        if self.window_id is not None:
            return "suppressed"
        if self.service is None or self.severity is None:
            return "not routed"
        return "joins" if self.incident_id else "new incident"


@dataclass
class IngestResult:
    dedup_keys: list[str] = field(default_factory=list)
    created: int = 0
    repeats: int = 0
    resolved: int = 0
    acknowledged: int = 0
    suppressed: int = 0
    declared: list[Incident] = field(default_factory=list)
    attached: dict[int, int] = field(default_factory=dict)  # incident id -> alerts


def _key(integration: Integration, parsed: ParsedAlert) -> str:
    if integration.dedup_labels and parsed.labels and integration.kind != "events":
        return key_from_labels(parsed.labels, list(integration.dedup_labels))
    return parsed.dedup_key


class IntegrationRefused(Exception):
    """``ingest(verify=True)``: under the delivery's lock, the integration turned out to be
    disabled (``disabled``) or no longer to have the token the delivery came with."""

    def __init__(self, *, disabled: bool):
        super().__init__("disabled" if disabled else "token no longer valid")
        self.disabled = disabled


def plan(
    *, integration: Integration, alerts: list[ParsedAlert], now: datetime, drill: bool = False
) -> list[Planned]:
    """What each alert would do; reads only (one round trip, whatever the number of alerts
    or of open ones)."""
    return _plan(integration, alerts, now, drill, lock=False)[0]


def _plan(integration, alerts, now, drill: bool, *, lock: bool) -> tuple[list[Planned], Found]:
    for parsed in alerts:
        parsed.dedup_key = _key(integration, parsed)
    # Routing is in memory (``router_for``): route every trigger now, so the reads can fetch
    # the windows and the incident to join of the services new alerts would go to, in the
    # same round trip as the firing alerts (a repeat's route is simply not used).
    router = routing.router_for(integration) if any(a.action == TRIGGER for a in alerts) else None
    routes = [router.route(a.labels) if a.action == TRIGGER else None for a in alerts]
    routed = defaultdict(set)
    for parsed, route in zip(alerts, routes, strict=True):
        if route and route.service and route.severity:
            routed[parsed.dedup_key].add(route.service.pk)
    found = lookup.read(
        integration=integration,
        keys=list(dict.fromkeys(a.dedup_key for a in alerts)),
        routed=routed,
        now=now,
        drill=drill,
        lock=lock,
    )
    planned, first = [], {}
    for parsed, route in zip(alerts, routes, strict=True):
        item = Planned(parsed=parsed, existing=found.existing.get(parsed.dedup_key), route=route)
        if item.existing is not None and item.existing.pk in found.released and route:
            item.existing, item.released = None, item.existing
        item.repeat_of = first.get(parsed.dedup_key)
        if item.repeat_of is not None and parsed.action == RESOLVE:
            item.repeat_of.closed_by = item  # fired and resolved in one delivery
        if item.existing is None and item.repeat_of is None and route is not None:
            item.service, item.severity = route.service, route.severity
            first[parsed.dedup_key] = item
        planned.append(item)
    for item in planned:
        if item.outcome == "new incident":
            item.window_id = found.windows.get(item.service.pk)
            if item.window_id is None:
                item.incident_id = found.targets.get(item.service.pk)
    return planned, found


def ingest(
    *,
    integration: Integration,
    alerts: list[ParsedAlert],
    now: datetime | None = None,
    drill: bool = False,
    verify: bool = False,
) -> IngestResult:
    """Store one delivery of alerts (see the module's docstring); ``drill=True`` makes them
    a drill's (a rehearsal started in Python, e.g. a game day). ``verify=True`` (the
    endpoints, whose integration may be a cached copy) raises ``IntegrationRefused``, having
    written nothing, when the integration's row read under the lock is disabled or no longer
    has ``integration.token_hash``."""
    now = _now(now)
    result = IngestResult()
    with transaction.atomic():
        locked = integration
        if not drill:  # a rehearsal says nothing about the monitor being alive
            alerts = heartbeats.watchdog_pings(integration=locked, alerts=alerts, now=now)
        planned, found = _plan(locked, alerts, now, drill, lock=True)
        if verify and (found.integration is None or found.integration[1] != locked.token_hash):
            raise IntegrationRefused(disabled=False)
        if verify and not found.integration[0]:
            raise IntegrationRefused(disabled=True)
        result.dedup_keys = [p.parsed.dedup_key for p in planned]
        _repeats(planned, now, result)
        refresh.refresh_repeats(integration=locked, planned=planned, now=now, drill=drill)
        touched = _resolves(locked, planned, now, result, drill)
        _acknowledges(locked, planned, now, result, drill)
        _new_alerts(locked, planned, now, result, drill)
        _all_resolved(locked, touched, now, drill)
    return result


def _repeats(planned: list[Planned], now: datetime, result: IngestResult) -> None:
    ids = [p.existing.pk for p in planned if p.outcome == "repeat" and p.existing]
    result.repeats = sum(1 for p in planned if p.outcome == "repeat")
    if ids:  # by hand: the ORM's update cost more CPU to compile than the database to run
        table, marks = connection.ops.quote_name(Alert._meta.db_table), ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET repeat_count = repeat_count + 1, last_received_at = %s"
                f" WHERE id IN ({marks})",
                [connection.ops.adapt_datetimefield_value(now), *ids],
            )
    for p in planned:  # repeats within this delivery count on the alert it creates
        if p.outcome == "repeat" and p.repeat_of is not None:
            p.repeat_of.repeats += 1


def _resolves(integration, planned, now, result, drill: bool) -> set[int]:
    """Resolve the firing alerts named; a resolve of an alert never seen is recorded as a
    resolved alert (Alertmanager and generic: they carry the alert), once."""
    resolving = [p for p in planned if p.parsed.action == RESOLVE]
    if not resolving:
        return set()
    touched, updated = set(), []
    for p in resolving:
        alert = p.existing
        if alert is None or alert.status != FIRING:
            continue
        alert.status, alert.resolved_at, alert.last_received_at = RESOLVED, now, now
        alert.ends_at = p.parsed.ends_at or now
        updated.append(alert)
        if alert.incident_id:
            touched.add(alert.incident_id)
    Alert.objects.bulk_update(updated, ["status", "resolved_at", "last_received_at", "ends_at"])
    result.resolved = len(updated)
    unseen = {
        p.parsed.dedup_key: p
        for p in resolving
        if p.existing is None and p.repeat_of is None and p.parsed.summary
    }
    if unseen:
        known = set(
            Alert.objects.filter(
                integration=integration, dedup_key__in=unseen, is_drill=drill
            ).values_list("dedup_key", flat=True)
        )
        Alert.objects.bulk_create(
            _row(integration, p, now, drill, status=RESOLVED)
            for k, p in unseen.items()
            if k not in known
        )
    return touched


def _acknowledges(integration, planned, now, result, drill: bool) -> None:
    for p in planned:
        alert = p.existing
        if p.parsed.action != ACKNOWLEDGE or alert is None:
            continue
        if alert.acknowledged_at is None:
            Alert.objects.filter(pk=alert.pk).update(acknowledged_at=now, last_received_at=now)
        if alert.incident_id is None:
            continue
        incident = Incident.objects.get(pk=alert.incident_id)
        try:
            incident_acknowledge(incident=incident, user=None, now=now)
        except ConflictError:  # acknowledged already, or no longer open: nothing to do
            continue
        result.acknowledged += 1
        timeline_add(
            incident=incident,
            kind=TimelineEntry.Kind.ALERT,
            text=drill_text(
                f"Acknowledged from alert {alert.dedup_key} by integration {integration.name}",
                drill,
            ),
            occurred_at=now,
            data={"integration": integration.slug, "alert": alert.pk, "action": ACKNOWLEDGE},
        )


def _row(integration, p: Planned, now: datetime, drill: bool, *, status=FIRING) -> Alert:
    parsed = p.parsed
    return Alert(
        integration=integration,
        dedup_key=parsed.dedup_key,
        fingerprint=parsed.fingerprint,
        status=status,
        summary=parsed.summary or parsed.dedup_key,
        service=p.service,
        severity=p.severity,
        incident_id=p.incident_id,
        starts_at=parsed.starts_at or now,
        ends_at=((p.closed_by or p).parsed.ends_at or now) if status == RESOLVED else None,
        received_at=now,
        last_received_at=now,
        resolved_at=now if status == RESOLVED else None,
        repeat_count=p.repeats,
        labels=parsed.labels,
        annotations=parsed.annotations,
        links=parsed.links,
        raw=parsed.raw,
        suppressed_by_id=p.window_id,
        is_drill=drill,
    )


def _new_alerts(integration, planned, now, result, drill: bool) -> None:
    new = [p for p in planned if p.parsed.action == TRIGGER and not (p.existing or p.repeat_of)]
    if not new:
        return
    groups: dict[int, list[Planned]] = defaultdict(list)
    for p in new:
        if p.outcome in ("new incident", "joins") and p.closed_by is None:
            groups[p.service.pk].append(p)
    declared = {}
    for service_id in sorted(groups):  # service locks in ascending order: deadlock-free
        items = groups[service_id]
        target = items[0].incident_id  # read with the delivery's other reads
        if target is None and connection.vendor == "postgresql":
            # Another delivery (any integration) may be declaring on this service: serialise,
            # then look again (READ COMMITTED: the next statement sees what it committed).
            locks.lock_service(service_id)
            target = lookup.group_targets(
                service_ids=[service_id], window=integration.group_window, now=now, drill=drill
            ).get(service_id)
        if target is None:
            incident = _declare(integration, items, now, drill)
            declared[incident.pk] = (incident, items)
            target = incident.pk
        for p in items:
            p.incident_id = target
    rows = Alert.objects.bulk_create(
        [
            _row(integration, p, now, drill, status=RESOLVED if p.closed_by else FIRING)
            for p in new
            if p.released is None
        ]
    )
    result.created = len(rows)
    rows += [_release(p, now) for p in new if p.released is not None]
    result.suppressed = sum(1 for p in new if p.window_id is not None)
    by_incident: dict[int, list[Alert]] = defaultdict(list)
    for row in rows:
        if row.incident_id:
            by_incident[row.incident_id].append(row)
    for incident_id, attached in by_incident.items():
        result.attached[incident_id] = len(attached)
        if incident_id in declared:
            incident, _ = declared[incident_id]
            declared_entry(integration, incident, attached, now, drill)
            result.declared.append(incident)
        else:
            attached_entry(integration, incident_id, attached, now, drill)


def _release(p: Planned, now: datetime) -> Alert:
    """The suppressed alert's own row takes what a new alert would do now. It is received
    now, for grouping too: the next alerts of its service join the incident it declares or
    joins (``received_at`` is what the grouping lookup reads)."""
    row = p.released
    row.service, row.severity, row.incident_id = p.service, p.severity, p.incident_id
    row.suppressed_by_id = p.window_id or row.suppressed_by_id
    row.received_at = row.last_received_at = now
    row.repeat_count = F("repeat_count") + 1
    fields = ["service", "severity", "incident", "suppressed_by", "received_at"]
    fields += ["last_received_at", "repeat_count"]
    if p.closed_by is not None:
        row.status, row.resolved_at = RESOLVED, now
        row.ends_at = p.closed_by.parsed.ends_at or now
        fields += ["status", "resolved_at", "ends_at"]
    row.save(update_fields=fields)
    row.refresh_from_db(fields=["repeat_count"])
    return row


def _declare(
    integration: Integration, items: list[Planned], now: datetime, drill: bool
) -> Incident:
    """A new incident for this service's new alerts, declared as a person would."""
    first = min(items, key=lambda p: p.parsed.starts_at or now)
    severity = min((p.severity for p in items), key=lambda s: s.rank)
    started = first.parsed.starts_at
    if started is not None and not (EARLIEST <= started <= now):
        started = None  # a monitor's clock ahead of ours (or absurd): impact unknown
    title = first.parsed.summary or first.parsed.dedup_key
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 1] + "…"
    description = first.parsed.annotations.get("description")
    return incident_declare(
        title=title,
        severity=severity,
        services=[first.service],
        summary=description[:10_000] if isinstance(description, str) else "",
        impact_started_at=started,
        detected_at=now,
        is_drill=drill,
        user=None,
        now=now,
    )


def _all_resolved(integration: Integration, touched: set[int], now: datetime, drill: bool) -> None:
    """For each incident whose last firing alert was just resolved: one entry saying so, and
    with ``auto_resolve`` the incident resolved through the lifecycle verb."""
    if not touched:
        return
    # Lock them: resolves from two integrations at once must not both write the entry.
    locked = list(
        Incident.objects.select_for_update(of=("self",)).filter(pk__in=touched).order_by("pk")
    )
    firing = set(
        Alert.objects.filter(incident_id__in=touched, status=FIRING).values_list(
            "incident_id", flat=True
        )
    )
    done = [i for i in locked if i.pk not in firing]
    counts = dict(
        Alert.objects.filter(incident__in=done)
        .values("incident_id")
        .annotate(n=Count("id"))
        .values_list("incident_id", "n")
    )
    for incident in done:
        n = counts.get(incident.pk, 0)
        timeline_add(
            incident=incident,
            kind=TimelineEntry.Kind.ALERT,
            text=drill_text(
                f"All {n} alert{'s' if n != 1 else ''} of this incident are resolved", drill
            ),
            occurred_at=now,
            data={"integration": integration.slug, "action": "all_resolved", "count": n},
        )
        if integration.auto_resolve and incident.is_open:
            try:
                incident_set_status(
                    incident=incident,
                    status=Incident.Status.RESOLVED,
                    user=None,
                    note=f"all alerts resolved ({integration.name} resolves automatically)",
                    now=now,
                )
            except ConflictError:
                continue
