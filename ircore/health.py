"""Health of the parts the tool needs: the database, the broker and the clock, and what the
apps add through their ``health_checks`` hook (``ircore.hooks``).

For a monitor that pages about the pager: ``clock.late_seconds`` is how far the clock's
heartbeat is behind its own interval (0 while it ticks on time, null before the first tick);
each app check says ``ok`` and its own lateness (the on-call app's ``escalation`` check:
``late_seconds`` of the oldest escalation step that is due and not yet handled). Every name
that is not ``ok`` is listed under ``late``. None of these makes /healthz answer 503: that
is for the database and the broker, without which nothing works at all.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from . import hooks
from .models import Heartbeat

HEARTBEAT_TASK = "ircore.tasks.heartbeat"
# The heartbeat's interval when the beat schedule does not say (config/celery.py: 30 s).
DEFAULT_HEARTBEAT_EVERY = 30.0

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


def beat_every(task: str, default: float) -> float:
    """Seconds between two runs of ``task``, read from the one beat schedule (``default``
    for a task it does not run at a fixed interval)."""
    from celery import current_app

    for entry in (current_app.conf.beat_schedule or {}).values():
        if entry.get("task") == task:
            schedule = entry.get("schedule")
            if isinstance(schedule, timedelta):
                return schedule.total_seconds()
            if isinstance(schedule, int | float):
                return float(schedule)
    return default


def lateness(oldest_due: datetime | None, *, now: datetime, after: timedelta) -> dict:
    """An app's /healthz entry for a clock: ``late_seconds`` since ``oldest_due`` (what has
    waited longest; 0 when nothing waits), ``ok`` while that is within ``after``."""
    late = max(0, int((now - oldest_due).total_seconds())) if oldest_due is not None else 0
    return {
        "ok": late <= after.total_seconds(),
        "late_seconds": late,
        "oldest_due_at": oldest_due.isoformat() if oldest_due is not None else None,
        "late_after_seconds": int(after.total_seconds()),
    }


def heartbeat_every() -> float:
    """Seconds between two heartbeats, read from the one beat schedule."""
    return beat_every(HEARTBEAT_TASK, DEFAULT_HEARTBEAT_EVERY)


def check_clock() -> dict:
    """Reported, never fatal: right after a start there is no tick yet. ``late_seconds``:
    how long past its interval the next heartbeat is overdue (0 while on time)."""
    every = heartbeat_every()
    never = {"ok": False, "last_tick": None, "late_seconds": None, "every_seconds": every}
    try:
        beat = Heartbeat.objects.filter(name="clock").first()
    except Exception:
        return never
    if beat is None:
        return never
    behind = (timezone.now() - beat.last_seen).total_seconds() - every
    return {
        "ok": not beat.stale,
        "last_tick": beat.last_seen.isoformat(),
        "late_seconds": max(0, int(behind)),
        "every_seconds": every,
    }


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
        "checks": hooks.health_checks() if db_ok else {},
        "time": timezone.now().isoformat(),
    }
    late = [name for name, check in report["checks"].items() if not check.get("ok")]
    if db_ok and not report["clock"]["ok"]:
        late.insert(0, "clock")
    if late:
        report["late"] = late
    down = [name for name in ("database", "broker") if not report[name]["ok"]]
    if down:
        report["down"] = down
    return not down, report
