"""Financial impact thresholds: crossed once, recorded, announced."""

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from ircore.models import FinancialThreshold

from ..models import (
    Incident,
    ThresholdCrossing,
    TimelineEntry,
)
from .timeline import timeline_add


def _cross_thresholds(incident: Incident, user: Any, now: datetime) -> list[ThresholdCrossing]:
    """Record and announce every threshold the estimate has reached, once per incident.

    The unique (incident, threshold) constraint is what makes "once" hold when two updates
    race; the notification dedupe keys make a retried transaction harmless too.
    """
    amount = incident.financial_impact
    if amount is None:
        return []
    crossed_already = set(
        ThresholdCrossing.objects.filter(incident=incident).values_list("threshold_id", flat=True)
    )
    crossings = []
    due = FinancialThreshold.objects.filter(amount__lte=amount).exclude(pk__in=crossed_already)
    for threshold in due.prefetch_related("notify_users").order_by("amount"):
        try:
            with transaction.atomic():
                crossing = ThresholdCrossing.objects.create(
                    incident=incident, threshold=threshold, amount=amount, crossed_at=now
                )
        except IntegrityError:
            continue  # another update recorded this crossing first
        crossings.append(crossing)
        _announce(incident, crossing, user, now, crossed=True)
    return crossings


def _announce_pending(incident: Incident, user: Any, now: datetime) -> None:
    """The incident turned out real: tell the audiences of the crossings nobody was told of
    yet (those recorded as a drill); a crossing already told stays told."""
    pending = incident.threshold_crossings.filter(notified_at__isnull=True)
    for crossing in pending.select_related("threshold").order_by("threshold__amount"):
        _announce(incident, crossing, user, now, crossed=False)


def _announce(
    incident: Incident, crossing: ThresholdCrossing, user: Any, now: datetime, *, crossed: bool
) -> None:
    """Tell the crossing's audience (dedupe keys make a repeat harmless), mark it told, and
    say on the timeline what happened.

    ``crossed``: announcing the crossing as it happens, when the timeline says so whoever was
    told; later (a drill turned real) an entry is written only if somebody was told now.
    """
    from ircore.links import absolute_url
    from ircore.notifications import notify_email, notify_user

    threshold, amount = crossing.threshold, crossing.amount
    subject = (
        f"[{incident.severity.key}] {incident.reference}: estimated impact "
        f"{amount:,.2f} crossed {threshold.amount:,.0f} ({threshold.audience})"
    )
    body = (
        f"{incident.reference} {incident.title}\n"
        f"Severity: {incident.severity}\nStatus: {incident.get_status_display()}\n"
        f"Estimated financial impact: {amount:,.2f}\n"
        f"Threshold: {threshold.amount:,.0f}, notify {threshold.audience}.\n"
    )
    topic = f"incidents.incident:{incident.pk}"
    link = absolute_url(incident.get_absolute_url())
    recipients = []
    # A drill rehearses the process but must not tell a CFO or a board about money that
    # was never lost: the crossing is recorded, nobody is notified.
    people = [] if incident.is_drill else list(threshold.notify_users.all())
    addresses = [] if incident.is_drill else threshold.email_list
    for person in people:
        notify_user(
            user=person,
            subject=subject,
            body=body,
            topic=topic,
            link=link,
            dedupe_key=f"threshold:{incident.pk}:{threshold.pk}:user:{person.pk}",
        )
        recipients.append(person.get_username())
    for address in addresses:
        notify_email(
            address=address,
            subject=subject,
            body=body,
            topic=topic,
            link=link,
            dedupe_key=f"threshold:{incident.pk}:{threshold.pk}:email:{address}",
        )
        recipients.append(address)
    if recipients:
        crossing.notified_at = now
        crossing.save(update_fields=["notified_at"])
        outcome = f"notified {threshold.audience} ({', '.join(recipients)})"
    elif not crossed:
        return  # nobody told now either: nothing new to record
    elif incident.is_drill:
        outcome = f"would notify {threshold.audience} (drill: nobody notified)"
    else:
        outcome = f'nobody notified (threshold "{threshold.audience}" has no recipients configured)'
    timeline_add(
        incident=incident,
        kind=TimelineEntry.Kind.THRESHOLD,
        text=f"Estimated impact {amount:,.2f} crossed {threshold.amount:,.0f}: {outcome}",
        author=user,
        occurred_at=now,
        data={
            "threshold": str(threshold.amount),
            "audience": threshold.audience,
            "recipients": recipients,
        },
    )
