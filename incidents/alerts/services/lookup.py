"""What a delivery reads before it writes, in one round trip to PostgreSQL (on SQLite, the
same statements one after another: it has no round trips to save).

Hand-written SQL, because compiling the ORM's queries was most of a single event's CPU: the
statements are the delivery's locks (``locks``), the integration's row (is it still enabled
with this token? read under the key-share lock, so a disabled or rotated integration is
refused at once, whatever a process has cached), the firing alerts with the delivery's
keys (with whether the maintenance window that held each has ended), and per service a new
alert routes to, the window active now and the incident a new alert joins. Each rule here
is the one home of that rule:

- active window of a service at ``now``: ``start <= now < end``; of several, the one that
  ends last (the alert is held until all of them are over);
- the incident a new alert joins: the open incident (a drill's only for a drill, a real one
  only for a real alert) that one of this service's alerts attached to within the
  integration's grouping window, the most recent (``alert_grouping_idx``), and that still
  lists the service as affected (a person who removed it said these alerts are not its).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models.expressions import Col

from ircore.models import Service

from ...models import Incident, IncidentService
from ..models import Alert, Integration, MaintenanceWindow
from . import locks

# What planning and the writes read of an alert already firing (not its labels, annotations
# and raw payload: a batch of repeats would decode every row's JSON for nothing).
EXISTING_FIELDS = (
    "id", "integration", "dedup_key", "status", "summary", "service", "severity", "incident",
    "acknowledged_at", "suppressed_by",
)  # fmt: skip
# In the model's order: ``Model.from_db`` takes the values of the fields it is given so.
_EXISTING = [f for f in Alert._meta.concrete_fields if f.name in EXISTING_FIELDS]
_converters: dict[str, list] = {}


@dataclass
class Found:
    """What ``read`` found. ``integration`` is the row's (enabled, token hash), or None if
    the row is gone."""

    integration: tuple[bool, str] | None = None
    existing: dict[str, Alert] = field(default_factory=dict)
    released: set[int] = field(default_factory=set)  # held by a window that has ended
    windows: dict[int, int] = field(default_factory=dict)  # service id -> window id
    targets: dict[int, int] = field(default_factory=dict)  # service id -> incident to join


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _t(model) -> str:
    return _q(model._meta.db_table)


def _dt(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _marks(values: Iterable) -> str:
    return ", ".join("%s" for _ in values)


def _run(statements: list[tuple[str, list]]) -> list[list[tuple] | None]:
    """Each statement's rows (None for one that returns none): on PostgreSQL in one round
    trip (the client-side binding Django's psycopg cursor uses takes several statements),
    elsewhere one by one."""
    results: list[list[tuple] | None] = []
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall() if cursor.description else None)
            return results
        params = [p for _, ps in statements for p in ps]
        cursor.execute("; ".join(sql for sql, _ in statements), params)
        while True:
            results.append(cursor.fetchall() if cursor.description else None)
            if not cursor.nextset():
                return results


def _integration_sql(integration: Integration, lock: bool) -> tuple[str, list]:
    share = " FOR KEY SHARE" if lock and connection.vendor == "postgresql" else ""
    return (
        f"SELECT {_q('enabled')}, {_q('token_hash')} FROM {_t(Integration)}"
        f" WHERE {_q('id')} = %s{share}",
        [integration.pk],
    )


def _firing_sql(integration: Integration, keys: list[str], now: datetime, drill: bool):
    columns = ", ".join(f"a.{_q(f.column)}" for f in _EXISTING)
    return (
        f"SELECT {columns}, CASE WHEN w.{_q('end')} <= %s THEN 1 ELSE 0 END"
        f" FROM {_t(Alert)} a LEFT JOIN {_t(MaintenanceWindow)} w"
        f" ON w.{_q('id')} = a.{_q('suppressed_by_id')}"
        f" WHERE a.{_q('integration_id')} = %s AND a.{_q('status')} = %s"
        f" AND a.{_q('is_drill')} = %s AND a.{_q('dedup_key')} IN ({_marks(keys)})",
        [_dt(now), integration.pk, Alert.Status.FIRING, drill, *keys],
    )


def _window_sql() -> str:
    return (
        f"SELECT w.{_q('id')} FROM {_t(MaintenanceWindow)} w"
        f" WHERE w.{_q('service_id')} = s.{_q('id')} AND w.{_q('start')} <= %s"
        f" AND w.{_q('end')} > %s ORDER BY w.{_q('end')} DESC LIMIT 1"
    )


def _target_sql() -> str:
    return (
        f"SELECT a.{_q('incident_id')} FROM {_t(Alert)} a"
        f" INNER JOIN {_t(Incident)} i ON i.{_q('id')} = a.{_q('incident_id')}"
        f" WHERE a.{_q('service_id')} = s.{_q('id')} AND a.{_q('incident_id')} IS NOT NULL"
        f" AND i.{_q('open_rank')} = 1 AND i.{_q('is_drill')} = %s"
        f" AND a.{_q('received_at')} >= %s"
        f" AND EXISTS (SELECT 1 FROM {_t(IncidentService)} x"
        f" WHERE x.{_q('incident_id')} = a.{_q('incident_id')}"
        f" AND x.{_q('service_id')} = s.{_q('id')})"
        f" ORDER BY a.{_q('received_at')} DESC LIMIT 1"
    )


def _services_sql(
    service_ids: list[int], now: datetime, window: timedelta, drill: bool, *, windows: bool
):
    """Per service: the active window (when ``windows``) and the incident to join."""
    params: list = []
    picked = f"s.{_q('id')}"
    if windows:
        picked += f", ({_window_sql()})"
        params += [_dt(now), _dt(now)]
    picked += f", ({_target_sql()})"
    params += [drill, _dt(now - window)]
    return (
        f"SELECT {picked} FROM {_t(Service)} s WHERE s.{_q('id')} IN ({_marks(service_ids)})",
        [*params, *service_ids],
    )


def _existing(rows: list[tuple]) -> tuple[dict[str, Alert], set[int]]:
    converters = _converters.get(connection.vendor)
    if converters is None:
        converters = _converters[connection.vendor] = [
            connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            for col in (Col(Alert._meta.db_table, f) for f in _EXISTING)
        ]
    names = [f.attname for f in _EXISTING]
    existing, released = {}, set()
    for row in rows:
        values = list(row[: len(_EXISTING)])
        for n, convert in enumerate(converters):
            for converter in convert:
                values[n] = converter(values[n], _EXISTING[n], connection)
        alert = Alert.from_db(connection.alias, names, values)
        existing[alert.dedup_key] = alert
        # Held by a window that has ended, and declared nothing: a service still broken
        # after its maintenance must page (planned as new at this arrival).
        if row[-1] and alert.suppressed_by_id and not alert.incident_id:
            released.add(alert.pk)
    return existing, released


def read(
    *,
    integration: Integration,
    keys: list[str],
    routed: dict[str, set[int]],
    now: datetime,
    drill: bool,
    lock: bool,
) -> Found:
    """The delivery's reads (see the module's docstring); with ``lock``, after its locks.
    ``routed``: the services each key's triggers route to. On PostgreSQL all of them are
    read in the one round trip; elsewhere only those of the keys not firing already."""
    postgresql = connection.vendor == "postgresql"
    service_ids = sorted(set().union(*routed.values())) if postgresql else []
    # In the order every delivery takes them (deadlock-free): the row, then the advisory locks.
    statements = [(locks.timeout_sql(), [])] if lock and postgresql else []
    row_at = len(statements)
    statements.append(_integration_sql(integration, lock))
    if lock and postgresql and keys:
        statements.append((locks.dedup_lock_sql(integration, keys), []))
    firing_at = len(statements)
    if keys:
        statements.append(_firing_sql(integration, keys, now, drill))
    services_at = len(statements)
    if service_ids:
        window = integration.group_window
        statements.append(_services_sql(service_ids, now, window, drill, windows=True))
    results = _run(statements)
    found = Found()
    if results[row_at]:
        enabled, hashed = results[row_at][0]
        found.integration = (bool(enabled), hashed)
    if keys:
        found.existing, found.released = _existing(results[firing_at])
    if not postgresql:  # the services of the new alerts only, now that they are known
        new = [
            k for k in routed if k not in found.existing or found.existing[k].pk in found.released
        ]
        service_ids = sorted(set().union(*(routed[k] for k in new)))
        if service_ids:
            window = integration.group_window
            services_at = len(results)
            results += _run([_services_sql(service_ids, now, window, drill, windows=True)])
    if service_ids:
        for service_id, window_id, target in results[services_at]:
            if window_id is not None:
                found.windows[service_id] = window_id
            if target is not None:
                found.targets[service_id] = target
    return found


def group_targets(
    *, service_ids: Iterable[int], window: timedelta, now: datetime, drill: bool
) -> dict[int, int]:
    """The incident a new alert of each service joins, where there is one (one query)."""
    service_ids = sorted(set(service_ids))
    if not service_ids:
        return {}
    (rows,) = _run([_services_sql(service_ids, now, window, drill, windows=False)])
    return {service_id: target for service_id, target in rows if target is not None}
