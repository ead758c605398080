"""Settings come from the environment alone. Each test loads them in a fresh interpreter with a
controlled environment and its own VAR_DIR, as a newcomer's or a production machine would."""

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DUMP = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "db_name": str(db["NAME"]), "host": db.get("HOST", ""),
    "broker": settings.CELERY_BROKER_URL,
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "secret_key": settings.SECRET_KEY, "debug": settings.DEBUG,
    "email_backend": settings.EMAIL_BACKEND,
    "static_backend": settings.STORAGES["staticfiles"]["BACKEND"],
    "middleware": settings.MIDDLEWARE,
    "caches": settings.CACHES,
}))
"""

PRODUCTION = {
    "SECRET_KEY": "",  # filled per test
    "DEBUG": "false",
    "ALLOWED_HOSTS": "example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def clean_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """Only what a shell needs, so no knob leaks in from the test run's own environment."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(var_dir), **extra)
    return env


def load(var_dir: Path, **extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", DUMP],
        cwd=ROOT,
        env=clean_env(var_dir, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def manage(var_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean_env(var_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_defaults_need_no_server(tmp_path):
    s = load(tmp_path)

    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["db_name"] == str(tmp_path / "db.sqlite3")
    assert s["broker"] == "filesystem://"
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = Path(s["transport"][key])
        assert folder.is_relative_to(tmp_path / "broker") and folder.is_dir(), key
    assert s["debug"] is False
    assert s["email_backend"] == "django.core.mail.backends.console.EmailBackend"
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in s["middleware"]
    # No server for the cache either: a table that migrate creates, and process memory for
    # the API rates (one web process).
    assert s["caches"]["default"] == {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "ircore_cache",
    }
    assert s["caches"]["throttle"]["BACKEND"].endswith("LocMemCache")


def test_secret_key_is_generated_once_into_var_and_kept_private(tmp_path):
    first = load(tmp_path)
    second = load(tmp_path)

    key_file = tmp_path / "secret_key"
    assert first["secret_key"] == second["secret_key"] == key_file.read_text().strip()
    assert len(first["secret_key"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # Another install gets another key.
    assert load(tmp_path / "other")["secret_key"] != first["secret_key"]


def test_secret_key_from_environment_writes_no_file(tmp_path):
    s = load(tmp_path, SECRET_KEY="from-the-environment-" + "x" * 40)

    assert s["secret_key"] == "from-the-environment-" + "x" * 40
    assert not (tmp_path / "secret_key").exists()


def test_urls_switch_to_postgres_and_redis(tmp_path):
    s = load(
        tmp_path,
        DATABASE_URL="postgres://postgres@db.example:5432/incidents",
        REDIS_URL="redis://cache.example:6379/0",
    )

    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["host"], s["db_name"]) == ("db.example", "incidents")
    assert s["broker"] == "redis://cache.example:6379/0"
    # A publisher gives up on a broker that is down after one quick retry (the reconcilers
    # send what was not enqueued); connecting is bounded too.
    assert s["transport"]["max_retries"] == 1
    assert s["transport"]["socket_connect_timeout"] == 2.0
    assert not (tmp_path / "broker").exists()
    assert s["caches"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert s["caches"]["default"]["LOCATION"] == "redis://cache.example:6379/0"
    assert s["caches"]["throttle"] == s["caches"]["default"]


def test_check_deploy_passes_with_production_settings(tmp_path):
    env = {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50)[:50]}

    done = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_fails_with_debug_on(tmp_path):
    env = {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50)[:50], "DEBUG": "true"}

    done = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)

    assert done.returncode != 0
    assert "security.W018" in done.stdout + done.stderr
