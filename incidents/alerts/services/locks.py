"""The locks ingestion takes (PostgreSQL; SQLite serialises writers on its database lock):
a key-share lock on the integration row and advisory locks per dedup bucket for a delivery,
and an advisory lock per service around declaring. See ``ingest``'s docstring."""

import hashlib

from django.db import connection

from ..models import Integration

LOCK_TIMEOUT = "5s"  # a lock held longer answers 503 Retry-After, and the monitor retries
DEDUP_BUCKETS = 64  # advisory locks per delivery at most (a batch takes them all)


def _advisory_key(*parts) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` (the same in every process)."""
    text = ":".join(["incidents.alerts", *map(str, parts)])
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )


def _advisory_sql(keys) -> str:
    """Take the advisory locks in ascending order (deadlock-free); ints only, no parameters."""
    return "SELECT " + ", ".join(f"pg_advisory_xact_lock({int(k)})" for k in sorted(set(keys)))


def timeout_sql() -> str:
    return f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"


def dedup_lock_sql(integration: Integration, dedup_keys: list[str]) -> str:
    """The advisory locks of the delivery's dedup buckets (at most ``DEDUP_BUCKETS``)."""
    buckets = {_advisory_key(key) % DEDUP_BUCKETS for key in dedup_keys}
    return _advisory_sql(_advisory_key("dedup", integration.pk, b) for b in buckets)


def lock_delivery(integration: Integration, dedup_keys: list[str]) -> None:
    """Step 1 of ``ingest``'s docstring, in one round trip (PostgreSQL only). Ingestion
    takes the same locks in the round trip of its reads (``lookup.read``)."""
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(Integration._meta.db_table)
    sql = [
        timeout_sql(),
        f"SELECT 1 FROM {table} WHERE id = {int(integration.pk)} FOR KEY SHARE",
    ]
    if dedup_keys:
        sql.append(dedup_lock_sql(integration, dedup_keys))
    with connection.cursor() as cursor:
        cursor.execute("; ".join(sql))


def lock_service(service_id: int) -> None:
    """Serialise declaring on this service (PostgreSQL; SQLite is serialised already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_advisory_sql([_advisory_key("group", service_id)]))
