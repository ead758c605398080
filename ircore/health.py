"""Health of the parts the tool needs: the database, the broker and the clock."""

import logging

from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from .models import Heartbeat

logger = logging.getLogger(__name__)


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # any driver error means "down"; say why
        return False, f"{type(exc).__name__}: {exc}"


def check_broker() -> tuple[bool, str]:
    url = settings.CELERY_BROKER_URL
    try:
        with Connection(
            url,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=2,
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            if conn.transport_cls == "filesystem" or url.startswith("filesystem"):
                folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"]
                from pathlib import Path

                if not Path(folder).is_dir():
                    raise OSError(f"broker folder {folder} is missing")
        return True, url.split("://", 1)[0]
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def check_clock() -> dict:
    """Reported, never fatal: right after a start there is no tick yet."""
    try:
        beat = Heartbeat.objects.filter(name="clock").first()
    except Exception:
        return {"ok": False, "last_tick": None}
    if beat is None:
        return {"ok": False, "last_tick": None}
    return {"ok": not beat.stale, "last_tick": beat.last_seen.isoformat()}


def health_report(*, verbose: bool = False) -> tuple[bool, dict]:
    """``verbose``: the error text (hosts, users, paths) for staff; anyone else, whom a
    public /healthz also answers, gets only its kind. The full text is always logged."""
    db_ok, db_detail = check_database()
    broker_ok, broker_detail = check_broker()
    for part, ok, detail in (("database", db_ok, db_detail), ("broker", broker_ok, broker_detail)):
        if not ok:
            logger.error("healthz: %s is down: %s", part, detail)
    if not verbose:
        db_detail = db_detail if db_ok else db_detail.split(":", 1)[0]
        broker_detail = broker_detail if broker_ok else broker_detail.split(":", 1)[0]
    report = {
        "status": "ok" if db_ok and broker_ok else "down",
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
        "clock": check_clock() if db_ok else {"ok": False, "last_tick": None},
        "time": timezone.now().isoformat(),
    }
    down = [name for name in ("database", "broker") if not report[name]["ok"]]
    if down:
        report["down"] = down
    return not down, report
