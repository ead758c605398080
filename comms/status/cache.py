"""Caching what the status page derives, under keys that change with its inputs.

The page is what everyone opens during an outage, and what it shows is derived from a lot
of rows (90 days of incident history per component). Every change a person makes to what it
derives from (incidents, their affected services, notices, services) writes a history row
(simple-history), so the last history row of those four tables (``data_marks``: one query of
four index-only maxima) moves whenever the derived figures may: a key built on it is never
stale in the ordinary case. Two transactions committing out of order (the later-numbered one
first) can leave a key that does not move; every entry is therefore also bounded in time
(its ``timeout``), so the page is never more than that behind.
"""

import hashlib

from django.core.cache import cache
from django.db import connection

from comms.models import Notice
from incidents.models import Incident, IncidentService
from ircore.models import Service

TRACKED = (Incident, IncidentService, Notice, Service)


def data_marks() -> tuple:
    """The last history row's number of each tracked table, in one query."""
    quote = connection.ops.quote_name
    parts = [
        f"(SELECT MAX({quote('history_id')}) FROM {quote(model.history.model._meta.db_table)})"
        for model in TRACKED
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(cursor.fetchone())


def key(name: str, parts: tuple) -> str:
    """The cache key of ``name`` over ``parts`` (which must name everything it depends on)."""
    return f"comms.status.{name}:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def read(keys: list[str]) -> dict:
    """The entries of ``keys`` that are there, in one round trip."""
    return cache.get_many(keys)


def write(entries: dict, timeout: int) -> None:
    cache.set_many(entries, timeout)


LOCK_SECONDS = 30
STALE_SECONDS = 3600


def rebuild_or_stale(stale_key: str, compute) -> tuple[object, bool]:
    """``(value, fresh)`` for an entry that was missing. One process rebuilds it (holding a
    lock in the cache) and keeps the result under ``stale_key`` as well; the others, while
    it does, answer with the last value kept there (a rebuild behind), so the crowd that
    opens the page during an outage does not rebuild 90 days of history all at once. With
    nothing kept yet, everyone builds."""
    lock = f"{stale_key}:lock"
    if cache.add(lock, 1, LOCK_SECONDS):
        try:
            value = compute()
            cache.set(stale_key, value, STALE_SECONDS)
            return value, True
        finally:
            cache.delete(lock)
    stale = cache.get(stale_key)
    if stale is not None:
        return stale, False
    return compute(), True
