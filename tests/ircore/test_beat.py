"""The one beat schedule: every entry names a task the worker has, and expires before its next
tick so that an outage does not leave a pile of stale ticks to run when the worker returns."""

from datetime import timedelta

from celery.schedules import schedule as celery_schedule

from config.celery import app


def _seconds(schedule) -> float | None:
    """The interval of an interval schedule; None for a crontab (no fixed interval)."""
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, celery_schedule):
        return schedule.run_every.total_seconds()
    return None


def test_every_beat_entry_names_a_registered_task_and_expires_before_its_next_tick():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover tasks
    schedule = app.conf.beat_schedule
    assert schedule, "the beat schedule is empty"
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, f"{name}: {entry['task']} is not a registered task"
        expires = entry.get("options", {}).get("expires")
        assert expires is not None, f"{name} has no expires"
        interval = _seconds(entry["schedule"])
        assert 0 < expires < (interval or float("inf")), f"{name}: {expires}s vs {interval}s"
