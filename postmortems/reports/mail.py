"""The monthly e-mail to Leadership: the summary of the month that has just ended and a link
to its report page.

A reconciler (the beat runs it hourly in the first days of each month): it mails the last
month that has ended, once, however many beats or workers run it at once:

1. the month's ``ReportMailing`` row is created if missing (its ``month`` is unique, so
   two creators end up with the same row);
2. the row is claimed with ``select_for_update(skip_locked=True)`` among the unsent: a second
   worker finds it locked (or sent) and does nothing;
3. each leader is e-mailed through ``ircore.notifications`` with a per-month ``dedupe_key``
   (so even a mailing replayed after a crash sends nobody the same month twice), then the
   row is stamped sent, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ircore.links import absolute_url
from ircore.notifications import notify_email
from ircore.roles import LEADERSHIP

from ..models import ReportMailing
from .build import build_report
from .periods import Period, month_containing
from .text import summary_lines


def report_path(period: Period) -> str:
    name = "quarterly" if period.is_quarter else "monthly"
    param = "quarter" if period.is_quarter else "month"
    return f"{reverse(f'admin:postmortems_report_{name}')}?{param}={period.key}"


def leaders():
    """Active members of the Leadership group, in a stable order."""
    return (
        get_user_model()
        .objects.filter(groups__name=LEADERSHIP, is_active=True)
        .order_by("username")
        .distinct()
    )


def send_monthly_report(*, now: datetime | None = None) -> ReportMailing | None:
    """Mail the last ended month's report to Leadership unless it went already; the row
    sent, or None when there was nothing to do (sent before, or another worker has it)."""
    now = now or timezone.now()
    period = month_containing(now).previous
    ReportMailing.objects.get_or_create(month=period.first, defaults={"created_at": now})
    with transaction.atomic():
        mailing = (
            ReportMailing.objects.select_for_update(skip_locked=True)
            .filter(month=period.first, sent_at__isnull=True)
            .first()
        )
        if mailing is None:
            return None
        report = build_report(period, now=now)
        link = absolute_url(report_path(period))
        body = "\n".join(summary_lines(report))
        subject = f"Incident report for {period.label}"
        people = list(leaders())
        for user in people:
            notify_email(
                address=user.email,
                subject=subject,
                body=body,
                topic=f"postmortems.report:{period.key}",
                dedupe_key=f"report-mail:{period.key}:{user.pk}",
                link=link,
            )
        mailing.sent_at, mailing.recipients = now, len(people)
        mailing.save(update_fields=["sent_at", "recipients"])
    return mailing
