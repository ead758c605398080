"""Measurement and a whole run: the sections' data at two sizes, each measurement timed at
both, compared in a ``Report``.

A run (``run()``):

1. ``bench_database()`` points the default connection at a new, empty, migrated database
   and drops it afterwards, even on Ctrl-C, so the user's data is never read or written.
2. Every registered section sets up its fixed rows, then grows its data to the small size.
3. Each section's measurements are taken: a warm-up hit, one hit with queries captured, then
   ``pages`` timed hits whose median is kept.
4. The data grows to the large size (the difference is added) and the same measurements are
   taken again; the report compares query counts and times between the two sizes.
"""

import math
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from . import registry
from .database import bench_database, refresh_statistics, version
from .registry import Context, Measurement, Section

# A page may be at most this much slower at the large size than at the small one.
RATIO_TARGET = 1.5


class BenchError(Exception):
    """A measurement could not be taken: a page answered with an error or a redirect."""


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

    @property
    def missed(self) -> list[Row]:
        return [row for row in self.rows if not row.ok]

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


def _counts(chosen: list[Section]) -> dict[str, int]:
    counted = {}
    for section in chosen:
        for model in section.models:
            counted[model._meta.label] = model._default_manager.count()
    return counted


# The section whose rows are the sizes; the others grow beside its incidents.
BASE_SECTION = "incidents"


def chosen_sections(names: Iterable[str] = ()) -> list[Section]:
    """The registered sections, or only those named (the incidents section always, as the
    others grow beside its incidents). An unknown name is a ``BenchError`` naming the known."""
    every = registry.sections()
    wanted = set(names)
    if not wanted:
        return every
    unknown = wanted - {section.name for section in every}
    if unknown:
        known = ", ".join(section.name for section in every)
        raise BenchError(f"No bench section {', '.join(sorted(unknown))}; the sections: {known}.")
    return [s for s in every if s.name in wanted or s.name == BASE_SECTION]


def run(
    *,
    small: int,
    large: int,
    pages: int,
    log: Callable[[str], None] = lambda message: None,
    sections: Iterable[str] = (),
) -> Report:
    chosen = chosen_sections(sections)
    with bench_database() as connection:
        log(f"Bench database ready ({version(connection)}).")
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
            log(f"Generating rows {start:,}..{stop:,} ...")
            began = time.perf_counter()
            for section in chosen:
                if section.grow:
                    section.grow(ctx, start, stop)
            refresh_statistics(connection)
            seconds[size_name] = time.perf_counter() - began
            counts[size_name] = _counts(chosen)
            log(f"  {seconds[size_name]:.1f} s; measuring at {stop:,} ...")
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
            version=version(connection),
            small=small,
            large=large,
            pages=pages,
            counts=counts,
            seconds=seconds,
            rows=rows,
        )
