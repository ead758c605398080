"""GET /healthz against the real parts: the configured database and broker (the real Redis on
the PostgreSQL + Redis run), a refused port for a broker or database that is down."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection

from ircore.models import Heartbeat
from ircore.tasks import heartbeat

ROOT = Path(__file__).resolve().parents[2]
# Nothing listens on port 1: a real, immediate "connection refused".
CLOSED_PORT = "127.0.0.1:1"

pytestmark = pytest.mark.django_db


def test_healthy_when_database_and_broker_are_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "detail": connection.vendor}
    assert body["broker"] == {
        "ok": True,
        "detail": "redis" if settings.CELERY_BROKER_URL.startswith("redis") else "filesystem",
    }
    assert "down" not in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_redis_broker_down_is_named(client, settings):
    settings.CELERY_BROKER_URL = f"redis://{CLOSED_PORT}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == ["broker"]
    assert body["broker"]["ok"] is False and body["broker"]["detail"]
    assert body["database"]["ok"] is True


def test_filesystem_broker_with_missing_folder_is_down(client, settings, tmp_path, make_user):
    missing = tmp_path / "no-such-broker"
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(missing / "out"),
        "data_folder_out": str(missing / "out"),
        "processed_folder": str(missing / "processed"),
        "control_folder": str(missing / "control"),
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]
    # The public answer names the part and the kind of error, not paths or hosts.
    assert "no-such-broker" not in response.content.decode()
    assert response.json()["broker"]["detail"] == "OSError"
    # Staff see why.
    client.force_login(make_user("ops"))
    response = client.get("/healthz")
    assert "no-such-broker" in response.json()["broker"]["detail"]
    assert not missing.exists(), "a health check must not create what it checks"


def test_database_down_is_named(tmp_path):
    # A fresh interpreter whose database is PostgreSQL on a closed port, the view called
    # through the Django test client there.
    code = (
        "import json, django; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/healthz')\n"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))\n"
    )
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"postgres://postgres@{CLOSED_PORT}/test",
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    body = result["body"]
    assert body["down"] == ["database"]
    assert body["database"]["ok"] is False and "OperationalError" in body["database"]["detail"]
    assert body["broker"]["ok"] is True
    assert body["clock"]["ok"] is False and body["clock"]["last_tick"] is None
    assert body["checks"] == {}


def test_clock_follows_the_heartbeat_row(client):
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    # No tick yet: reported, not fatal.
    assert client.get("/healthz").json()["clock"] == {
        "ok": False,
        "last_tick": None,
        "late_seconds": None,
        "every_seconds": 30.0,
    }

    with time_machine.travel(start, tick=False):
        heartbeat()
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        fresh = client.get("/healthz")
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        stale = client.get("/healthz")

    assert Heartbeat.objects.get(name="clock").last_seen == start
    assert fresh.status_code == 200
    assert fresh.json()["clock"] == {
        "ok": True,
        "last_tick": start.isoformat(),
        "late_seconds": 90,
        "every_seconds": 30.0,
    }
    # A stopped clock is reported but does not make the service unhealthy.
    assert stale.status_code == 200
    assert stale.json()["clock"]["ok"] is False
    assert stale.json()["clock"]["late_seconds"] == 210
    assert stale.json()["late"][0] == "clock"


def test_only_get_is_allowed(client):
    assert client.post("/healthz").status_code == 405
