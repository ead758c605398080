"""The benchmark behind ``manage.py bench``: a throwaway database, data generation, and
measurement of list pages at two sizes.

A run (``run()``):

1. ``bench_database()`` points the default connection at a new, empty, migrated database
   (a temporary SQLite file, or ``<name>_bench`` on PostgreSQL) and drops it afterwards,
   even on Ctrl-C, so the user's data is never read or written.
2. Every registered section sets up its fixed rows, then grows its data to the small size.
3. Each section's measurements are taken: a warm-up hit, one hit with queries captured, then
   ``pages`` timed hits whose median is kept.
4. The data grows to the large size (the difference is added) and the same measurements are
   taken again; the report compares query counts and times between the two sizes.

Sections are a small registry: a later app adds its own by calling ``register(Section(...))``
in its ``<app>/bench.py``; ``sections()`` imports those modules the way the admin finds
``admin.py``.
"""

from __future__ import annotations

import copy
import math
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from ircore.models import IncidentType, Service, Severity

from .models import Incident, IncidentService, RoleAssignment, TimelineEntry

# A page may be at most this much slower at the large size than at the small one.
RATIO_TARGET = 1.5
# Rows built in memory and written per transaction while generating.
CHUNK = 2000


class BenchError(Exception):
    """A measurement could not be taken: a page answered with an error or a redirect."""


# --- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """One thing to time: a GET of ``url`` through the test client (logged in as a
    superuser), or a call of ``call`` for work that is not a page (a reconciler tick)."""

    label: str
    url: str = ""
    call: Callable[[], Any] | None = None
    accept: str = "text/html"


@dataclass
class Context:
    """What sections share during a run. ``data`` holds each section's own lookups."""

    now: datetime
    small: int
    large: int
    client: Client
    superuser: Any
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """A group of measurements and the data they need.

    ``setup(ctx)`` creates fixed rows once; ``grow(ctx, start, stop)`` adds the rows that go
    with incident indexes ``start..stop-1`` (it is called for ``0..small`` and then for
    ``small..large``, so it must add, never rebuild); ``measurements(ctx)`` lists what to
    time, the same list at both sizes; ``models`` are the tables whose row counts the report
    shows.
    """

    name: str
    measurements: Callable[[Context], list[Measurement]]
    setup: Callable[[Context], None] | None = None
    grow: Callable[[Context, int, int], None] | None = None
    models: tuple[type[models.Model], ...] = ()


_registry: dict[str, Section] = {}


def register(section: Section) -> Section:
    _registry[section.name] = section
    return section


def sections() -> list[Section]:
    """Registered sections, after importing every installed app's ``bench`` module."""
    autodiscover_modules("bench")
    return list(_registry.values())


# --- the throwaway database ------------------------------------------------------------------


@contextmanager
def bench_database(alias: str = DEFAULT_DB_ALIAS) -> Iterator[BaseDatabaseWrapper]:
    """Point ``alias`` at a new, migrated, empty database for the duration; drop it after.

    The connection object is swapped, not renamed: the original one (inside pytest, an open
    test transaction) is left untouched and put back afterwards with the original settings.
    Creation and removal go through Django's test-database machinery. If a run is killed
    outright (SIGKILL) the next run clobbers the leftover database (``autoclobber``).
    """
    original_settings = settings.DATABASES[alias]
    original_connection = connections[alias]
    bench_settings = copy.deepcopy(original_settings)
    tmpdir = None
    if bench_settings["ENGINE"] == "django.db.backends.sqlite3":
        tmpdir = tempfile.mkdtemp(prefix="incident-bench-")
        bench_name = str(Path(tmpdir) / "bench.sqlite3")
    else:
        bench_name = f"{original_settings['NAME']}_bench"
    bench_settings["TEST"] = {**bench_settings.get("TEST", {}), "NAME": bench_name}
    bench_settings["TEST"]["MIGRATE"] = True
    bench_connection = load_backend(bench_settings["ENGINE"]).DatabaseWrapper(bench_settings, alias)
    # create_test_db() renames settings.DATABASES[alias]: let it rename our copy only.
    settings.DATABASES[alias] = bench_settings
    connections[alias] = bench_connection
    # Content type ids differ between databases; the manager caches them per alias.
    ContentType.objects.clear_cache()
    try:
        bench_connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        yield bench_connection
    finally:
        try:
            # The name switches once the database exists, before migrations run: drop it
            # even when the run was interrupted while migrating.
            if bench_connection.settings_dict["NAME"] == bench_name:
                bench_connection.creation.destroy_test_db(original_settings["NAME"], verbosity=0)
            else:
                bench_connection.close()
        finally:
            connections[alias] = original_connection
            settings.DATABASES[alias] = original_settings
            ContentType.objects.clear_cache()
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)  # with SQLite's -wal and -shm files


def _refresh_statistics(connection: BaseDatabaseWrapper) -> None:
    """After a bulk load, give PostgreSQL what autovacuum gives a live table: planner
    statistics (ANALYZE) and a visibility map, without which index-only scans and counts
    read the whole heap and the large size would look worse than production."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


# --- measurement -----------------------------------------------------------------------------


@dataclass
class Sample:
    """One measurement at one size."""

    queries: int
    ms: float
    query_ms: list[float] = field(default_factory=list)  # each query's time, in order
    slowest: int = -1  # index of the slowest query
    slowest_sql: str = ""

    @property
    def slowest_ms(self) -> float:
        return self.query_ms[self.slowest] if self.slowest >= 0 else 0.0


@dataclass
class Row:
    section: str
    label: str
    url: str
    small: Sample
    large: Sample

    @property
    def ratio(self) -> float:
        return self.large.ms / self.small.ms if self.small.ms else math.inf

    @property
    def same_queries(self) -> bool:
        return self.small.queries == self.large.queries

    @property
    def ratio_ok(self) -> bool:
        return self.ratio < RATIO_TARGET

    @property
    def ok(self) -> bool:
        return self.same_queries and self.ratio_ok

    @property
    def slowest_ms_at_small(self) -> float | None:
        """What the query that is slowest at the large size took at the small size."""
        if not self.same_queries or self.large.slowest < 0 or not self.small.query_ms:
            return None
        return self.small.query_ms[self.large.slowest]


def _hit(ctx: Context, measurement: Measurement) -> None:
    if measurement.call is not None:
        measurement.call()
        return
    # secure=True: a SECURE_SSL_REDIRECT install would otherwise time its redirect.
    response = ctx.client.get(measurement.url, secure=True, headers={"accept": measurement.accept})
    if response.status_code != 200:
        where = f" to {response['Location']}" if response.has_header("Location") else ""
        raise BenchError(
            f"{measurement.label}: GET {measurement.url} answered "
            f"{response.status_code}{where}; fix the page or the measurement."
        )


def measure(ctx: Context, measurement: Measurement, pages: int) -> Sample:
    """Queries of one hit and the median time of ``pages`` hits, after a warm-up hit
    (template loading, first imports, caches that any live process has already filled).
    The timed hits run without query capture so that its bookkeeping is not timed."""
    connection = connections[DEFAULT_DB_ALIAS]
    _hit(ctx, measurement)

    timings: list[float] = []

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append(time.perf_counter() - start)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
        _hit(ctx, measurement)
    # Read them now: the next request's request_started signal empties the query log.
    queries = captured.captured_queries

    times = []
    for _ in range(pages):
        start = time.perf_counter()
        _hit(ctx, measurement)
        times.append(time.perf_counter() - start)

    sample = Sample(queries=len(queries), ms=statistics.median(times) * 1000)
    if timings and len(timings) == len(queries):
        sample.query_ms = [seconds * 1000 for seconds in timings]
        sample.slowest = max(range(len(timings)), key=timings.__getitem__)
        sample.slowest_sql = queries[sample.slowest]["sql"]
    return sample


# --- a run -----------------------------------------------------------------------------------


@dataclass
class Report:
    vendor: str
    version: str
    small: int
    large: int
    pages: int
    counts: dict[str, dict[str, int]]
    seconds: dict[str, float]
    rows: list[Row]

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def as_dict(self) -> dict[str, Any]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in self.rows:
            grouped.setdefault(row.section, []).append(
                {
                    "measurement": row.label,
                    "url": row.url,
                    "queries": {"small": row.small.queries, "large": row.large.queries},
                    "ms": {"small": round(row.small.ms, 2), "large": round(row.large.ms, 2)},
                    "ratio": round(row.ratio, 3),
                    "same_query_count": row.same_queries,
                    "ratio_ok": row.ratio_ok,
                    "slowest_sql_at_large": {
                        "ms": round(row.large.slowest_ms, 2),
                        "ms_at_small": _round(row.slowest_ms_at_small),
                        "sql": row.large.slowest_sql,
                    },
                }
            )
        return {
            "database": {"vendor": self.vendor, "version": self.version},
            "sizes": {"small": self.small, "large": self.large},
            "pages_timed": self.pages,
            "ratio_target": RATIO_TARGET,
            "row_counts": self.counts,
            "generation_seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "sections": grouped,
            "ok": self.ok,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _version(connection: BaseDatabaseWrapper) -> str:
    if connection.vendor == "postgresql":
        number = connection.pg_version
        return f"PostgreSQL {number // 10000}.{number % 10000}"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.display_name


def _counts(chosen: list[Section]) -> dict[str, int]:
    counted = {}
    for section in chosen:
        for model in section.models:
            counted[model._meta.label] = model._default_manager.count()
    return counted


def run(
    *, small: int, large: int, pages: int, log: Callable[[str], None] = lambda message: None
) -> Report:
    chosen = sections()
    with bench_database() as connection:
        log(f"Bench database ready ({_version(connection)}).")
        superuser = get_user_model().objects.create_superuser(
            "bench-admin", "bench-admin@example.com", password=None
        )
        client = Client()
        client.force_login(superuser)
        ctx = Context(
            now=timezone.now(), small=small, large=large, client=client, superuser=superuser
        )
        for section in chosen:
            if section.setup:
                section.setup(ctx)

        seconds: dict[str, float] = {}
        counts: dict[str, dict[str, int]] = {}
        samples: dict[str, dict[tuple[str, str], Sample]] = {}
        plans = {section.name: section.measurements(ctx) for section in chosen}
        for size_name, start, stop in (("small", 0, small), ("large", small, large)):
            log(f"Generating incidents {start:,}..{stop:,} ...")
            began = time.perf_counter()
            for section in chosen:
                if section.grow:
                    section.grow(ctx, start, stop)
            _refresh_statistics(connection)
            seconds[size_name] = time.perf_counter() - began
            counts[size_name] = _counts(chosen)
            log(f"  {seconds[size_name]:.1f} s; measuring at {stop:,} incidents ...")
            taken = samples[size_name] = {}
            for section in chosen:
                for measurement in plans[section.name]:
                    taken[(section.name, measurement.label)] = measure(ctx, measurement, pages)

        rows = [
            Row(
                section=section.name,
                label=measurement.label,
                url=measurement.url,
                small=samples["small"][(section.name, measurement.label)],
                large=samples["large"][(section.name, measurement.label)],
            )
            for section in chosen
            for measurement in plans[section.name]
        ]
        return Report(
            vendor=connection.vendor,
            version=_version(connection),
            small=small,
            large=large,
            pages=pages,
            counts=counts,
            seconds=seconds,
            rows=rows,
        )


# --- the incidents section -------------------------------------------------------------------

# References spread over about three years of days: index i is day ``i % DAYS`` back from
# today, number ``i // DAYS + 1`` that day, so any index range adds fresh references.
DAYS = 3 * 365
SEVERITIES = (  # (key, rank, name)
    ("SEV-1", 1, "Critical"),
    ("SEV-2", 2, "High"),
    ("SEV-3", 3, "Medium"),
    ("SEV-4", 4, "Low"),
)
TYPES = (("outage", "Outage"), ("degradation", "Degradation"), ("security", "Security"))
SERVICES = (
    "Payments API",
    "Settlement",
    "Checkout",
    "Merchant Dashboard",
    "Webhooks",
    "Search",
    "Notifications",
    "Internal Admin",
)
# Status and severity follow the index in fixed patterns rather than at random, so every
# filtered view has rows at any size (a page without rows skips its prefetch query and
# would make the query counts differ for a reason that is not the code's). Investigating is
# 15%, so that the filtered pages are already full at the default small size (150 of 1,000
# rows; admin pages hold 100): a half-empty page would render faster for that reason alone.
STATUS_PATTERN = (
    ("declared", "identified", "monitoring")
    + ("investigating",) * 3
    + ("resolved",) * 2
    + ("closed",) * 12
)
SEVERITY_PATTERN = (0, 1, 1, 2, 2, 2, 3, 3, 3, 3)  # indexes into SEVERITIES: 10% SEV-1
TITLES = (
    "Elevated error rate",
    "Latency above target",
    "Failed deployment",
    "Queue backlog growing",
    "Certificate expiry",
    "Database failover",
    "Third-party outage",
)
RESPONDERS = 5


def setup_incidents(ctx: Context) -> None:
    user_model = get_user_model()
    ctx.data["responders"] = [
        user_model.objects.create_user(f"bench-responder-{n}", password=None, is_staff=True)
        for n in range(1, RESPONDERS + 1)
    ]
    ctx.data["severities"] = [
        Severity.objects.create(key=key, rank=rank, name=name) for key, rank, name in SEVERITIES
    ]
    ctx.data["types"] = [IncidentType.objects.create(key=key, name=name) for key, name in TYPES]
    ctx.data["services"] = [
        Service.objects.create(name=name, slug=name.lower().replace(" ", "-")) for name in SERVICES
    ]
    # Incidents count back from the start of today (UTC).
    ctx.data["end"] = ctx.now.replace(hour=0, minute=0, second=0, microsecond=0)


def _incident(ctx: Context, i: int) -> Incident:
    day, number = i % DAYS, i // DAYS + 1
    declared = (
        ctx.data["end"] - timedelta(days=day + 1) + timedelta(seconds=(number * 797 + i) % 86_400)
    )
    status = STATUS_PATTERN[i % len(STATUS_PATTERN)]
    severities, types = ctx.data["severities"], [*ctx.data["types"], None]
    title = f"{TITLES[i % len(TITLES)]} #{i}"
    reached = Incident.Status.values.index(status)  # how far through the lifecycle
    step = timedelta(minutes=5 + i % 40)
    return Incident(
        reference=f"INC-{declared:%Y-%m-%d}-{number:03d}",
        title=title,
        severity=severities[SEVERITY_PATTERN[i % len(SEVERITY_PATTERN)]],
        incident_type=types[i % len(types)],
        status=status,
        is_drill=i % 50 == 7,
        channel_name=f"#incident-{declared:%Y-%m-%d}-bench-{i}",
        impact_started_at=declared - 2 * step,
        detected_at=declared - step,
        declared_at=declared,
        acknowledged_at=declared + step if reached >= 1 else None,
        mitigated_at=declared + 4 * step if reached >= 3 else None,
        resolved_at=declared + 6 * step if reached >= 4 else None,
        closed_at=declared + timedelta(days=3) if reached >= 5 else None,
        customers_affected=(i * 37) % 5000 if i % 4 == 0 else None,
        financial_impact=Decimal((i * 113) % 250_000) if i % 6 == 0 else None,
    )


def grow_incidents(ctx: Context, start: int, stop: int) -> None:
    """Add incidents ``start..stop-1`` with their affected services, IC assignments (70%,
    with a hand-over for 10%) and a few timeline entries (a third of them).

    Rows go in with ``bulk_create`` and references are computed rather than drawn from the
    per-day counter through ``incident_declare``: declaring 100,000 incidents one by one
    (a transaction, checklist, timeline entry and history rows each) would take far too long.
    No history rows are written; no list page reads them.
    """
    services, responders = ctx.data["services"], ctx.data["responders"]
    statuses = list(IncidentService.Status.values)
    for chunk_start in range(start, stop, CHUNK):
        indexes = range(chunk_start, min(chunk_start + CHUNK, stop))
        with transaction.atomic():
            incidents = Incident.objects.bulk_create([_incident(ctx, i) for i in indexes])
            affected, roles, timeline = [], [], []
            for i, incident in zip(indexes, incidents, strict=True):
                picked = (
                    {i % len(services), (i * 3 + 1) % len(services)}
                    if i % 3 == 0
                    else {i % len(services)}
                )
                affected += [
                    IncidentService(
                        incident=incident, service=services[s], status=statuses[1 + i % 3]
                    )
                    for s in sorted(picked)
                ]
                declared = incident.declared_at
                if i % 10 < 7:
                    if i % 10 == 0:
                        roles.append(
                            RoleAssignment(
                                incident=incident,
                                role=RoleAssignment.Role.INCIDENT_COMMANDER,
                                user=responders[(i + 1) % len(responders)],
                                assigned_at=declared,
                                relieved_at=declared + timedelta(minutes=30),
                            )
                        )
                    roles.append(
                        RoleAssignment(
                            incident=incident,
                            role=RoleAssignment.Role.INCIDENT_COMMANDER,
                            user=responders[i % len(responders)],
                            assigned_at=declared + timedelta(minutes=30),
                        )
                    )
                if i % 3 == 0:
                    timeline += [
                        TimelineEntry(
                            incident=incident,
                            kind=kind,
                            occurred_at=declared + timedelta(minutes=minutes),
                            text=text,
                        )
                        for kind, minutes, text in (
                            (TimelineEntry.Kind.DECLARED, 0, f"Declared {incident.reference}"),
                            (TimelineEntry.Kind.NOTE, 12, "Rolled back the last deploy."),
                            (TimelineEntry.Kind.STATUS, 45, f"Status: {incident.status}"),
                        )
                    ]
            IncidentService.objects.bulk_create(affected)
            RoleAssignment.objects.bulk_create(roles)
            TimelineEntry.objects.bulk_create(timeline)


def incident_measurements(ctx: Context) -> list[Measurement]:
    changelist = reverse("admin:incidents_incident_changelist")
    model_admin = admin.site.get_model_admin(Incident)
    # The same deep page at both sizes, so it must exist at the small size too.
    deep = max(1, min(50, math.ceil(ctx.small / model_admin.list_per_page)))
    api = "/api/v1/incidents/"
    as_json = "application/json"
    return [
        Measurement("admin change list, page 1", changelist),
        Measurement(f"admin change list, page {deep}", f"{changelist}?p={deep}"),
        Measurement(
            "admin change list, status=investigating",
            f"{changelist}?status__exact=investigating",
        ),
        Measurement("API list, page 1", api, accept=as_json),
        Measurement(
            "API list, status=investigating", f"{api}?status=investigating", accept=as_json
        ),
    ]


register(
    Section(
        name="incidents",
        setup=setup_incidents,
        grow=grow_incidents,
        measurements=incident_measurements,
        models=(Incident, IncidentService, RoleAssignment, TimelineEntry),
    )
)
