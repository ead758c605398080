"""The database cache's table (settings.CACHE_TABLE), made by migrate so that a fresh install,
`make run` and the test database all have it. It is created whether or not REDIS_URL is set
today, so an install that drops Redis later still finds its cache table."""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Idempotent: createcachetable skips a table that exists.
    call_command(
        "createcachetable",
        settings.CACHE_TABLE,
        database=schema_editor.connection.alias,
        verbosity=0,
    )


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(settings.CACHE_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("ircore", "0004_policy_import_permission")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
