"""The throwaway database a bench run works in, and the statistics a bulk load needs."""

import copy
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend


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


def refresh_statistics(connection: BaseDatabaseWrapper) -> None:
    """After a bulk load, give PostgreSQL what autovacuum gives a live table: planner
    statistics (ANALYZE) and a visibility map, without which index-only scans and counts
    read the whole heap and the large size would look worse than production. Then a
    checkpoint, so that writing out a million fresh rows is not timed with the pages (it
    needs superuser or pg_checkpoint; without them the background writer does it later)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute("CHECKPOINT")
            except DatabaseError:
                pass


def version(connection: BaseDatabaseWrapper) -> str:
    if connection.vendor == "postgresql":
        number = connection.pg_version
        return f"PostgreSQL {number // 10000}.{number % 10000}"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.display_name
