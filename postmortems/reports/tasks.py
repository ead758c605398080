"""The reports' beat task (imported by the postmortems AppConfig so Celery registers it)."""

from celery import shared_task

from .mail import send_monthly_report


@shared_task(name="postmortems.reports.send_monthly_report")
def send_monthly_report_task() -> bool:
    """Beat, hourly in the first days of each month: mail the last month's report to
    Leadership once (idempotent, safe under two beats: a unique row per month, claimed with
    skip_locked)."""
    return send_monthly_report() is not None
