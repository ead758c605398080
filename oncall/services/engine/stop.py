"""What stops pages: an acknowledgement, and the incident reaching a step's ``unless`` point.

Stopping is level-triggered like the rest: ``Page.objects.live()`` reads the incident's state
itself, so a page of a step whose point is reached is not live whether or not its status was
updated here; these services record the stop (status, time, reason, timeline) at once.

Lock order, everywhere: an escalation row before its incident row (the tick), or the incident
row alone (these services); nothing here locks an escalation while holding an incident.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, TimelineEntry
from incidents.services import incident_acknowledge, timeline_add
from ircore.errors import ConflictError, RuleError
from ircore.notifications import withdraw

from ...models import Escalation, Page, PageAttempt, Point, point_reached
from .tick import _name, escalation_advance


@dataclass
class Acknowledged:
    """What ``escalation_acknowledge`` did: whether it stamped the incident, the pages of
    the person it acknowledged, and how many other pages it stopped."""

    incident: Incident
    stamped: bool = False
    acknowledged: list[Page] = field(default_factory=list)
    stopped: int = 0

    @property
    def changed(self) -> bool:
        return self.stamped or bool(self.acknowledged) or bool(self.stopped)


def _locked(incident: Incident) -> Incident:
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("severity")
        .get(pk=incident.pk)
    )


def _withdraw_messages(page_ids: list[int], reason: str) -> int:
    """Take back the messages of these pages still waiting for a worker (the broker was down,
    or a webhook is between retries): a stopped or acknowledged page wakes nobody later."""
    if not page_ids:
        return 0
    attempts = PageAttempt.objects.filter(page_id__in=page_ids, delivery__isnull=False)
    own = Page.objects.filter(pk__in=page_ids, delivery__isnull=False)
    ids = {
        *attempts.values_list("delivery_id", flat=True),
        *own.values_list("delivery_id", flat=True),
    }
    return withdraw(delivery_ids=ids, reason=f"Withdrawn before it was sent: {reason}.")


def _stop_reached(incident: Incident, now: datetime, reason: str) -> int:
    """Mark stopped the live pages whose step's point ``incident`` has reached, and take
    back their messages not sent yet."""
    reached = [point for point in Point.values if point_reached(incident, point)]
    if not reached:
        return 0
    ids = list(
        Page.objects.filter(
            incident=incident, status__in=Page.LIVE_STATUSES, unless__in=reached
        ).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    stopped = Page.objects.filter(pk__in=ids, status__in=Page.LIVE_STATUSES).update(
        status=Page.Status.STOPPED, stopped_at=now, stop_reason=reason[:200]
    )
    _withdraw_messages(ids, reason)
    return stopped


def escalation_acknowledge(
    *,
    incident: Incident,
    user,
    via: str,
    now: datetime | None = None,
    page: Page | None = None,
) -> Acknowledged:
    """``user`` acknowledges (through ``via``: admin, api, link or chat): stamps the
    incident's acknowledged time through ``incident_acknowledge`` if not yet (MTTA), marks
    acknowledged ``page`` (or all of ``user``'s live pages of the incident), stops every
    other live page of an "unless acknowledged" step, and writes the timeline. Saying it
    twice changes nothing the second time."""
    if via not in Page.Via.values:
        raise RuleError(f"'{via}' is not a way to acknowledge.", field="via")
    if page is not None and page.incident_id != incident.pk:
        raise RuleError("That page is about another incident.", field="page")
    with transaction.atomic():
        locked = _locked(incident)
        now = now or timezone.now()  # read under the lock
        result = Acknowledged(incident=locked)
        if locked.acknowledged_at is None:
            if not locked.is_open:
                raise ConflictError(
                    f"{locked.reference} is {locked.get_status_display().lower()}; "
                    "there is nothing to acknowledge.",
                    field="status",
                )
            locked = incident_acknowledge(incident=locked, user=user, now=now)
            result.incident, result.stamped = locked, True
        mine = Page.objects.filter(incident=locked, status__in=Page.LIVE_STATUSES)
        mine = mine.filter(pk=page.pk) if page is not None else mine.filter(recipient=user)
        result.acknowledged = list(mine.select_for_update())
        for own in result.acknowledged:
            own.status = Page.Status.ACKNOWLEDGED
            own.acknowledged_at, own.acknowledged_by, own.acknowledged_via = now, user, via
        Page.objects.bulk_update(
            result.acknowledged,
            ["status", "acknowledged_at", "acknowledged_by", "acknowledged_via"],
        )
        _withdraw_messages([p.pk for p in result.acknowledged], f"acknowledged by {_name(user)}")
        result.stopped = _stop_reached(locked, now, f"acknowledged by {_name(user)}")
        if result.acknowledged or result.stopped:
            text = f"{_name(user)} acknowledged via {Page.Via(via).label.lower()}"
            if result.acknowledged:
                text += f" ({len(result.acknowledged)} own page(s))"
            text += (
                f"; paging stopped: {result.stopped} other page(s) of “unless acknowledged” steps."
            )
            timeline_add(
                incident=locked,
                kind=TimelineEntry.Kind.ACKNOWLEDGEMENT,
                text=text,
                author=user,
                occurred_at=now,
                data={
                    "via": via,
                    "pages": [p.pk for p in result.acknowledged],
                    "stopped": result.stopped,
                },
            )
    if page is not None:
        page.refresh_from_db()
    return result


POINT_WORDS = {
    Point.ACKNOWLEDGED: "acknowledged",
    Point.IDENTIFIED: "identified",
    Point.MITIGATED: "mitigated",
    Point.RESOLVED: "resolved",
}


def escalation_update(*, incident: Incident, now: datetime | None = None) -> int:
    """After the incident moved (acknowledged, a status, resolved, re-opened, a severity):
    stop the pages whose point it has reached, then re-evaluate its escalation at once
    (steps of a raised severity whose time has passed page now; a finished incident has
    nothing more due). Returns the pages made."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(incident)
        reached = [POINT_WORDS[p] for p in Point.values if point_reached(locked, p)]
        if reached:
            reason = f"the incident is {reached[-1]}"
            stopped = _stop_reached(locked, now, reason)
            if stopped:
                timeline_add(
                    incident=locked,
                    kind=TimelineEntry.Kind.ESCALATION,
                    text=f"Paging stopped: {reason} ({stopped} page(s)).",
                    occurred_at=now,
                    data={"stopped": stopped, "reason": reason},
                )
    # A separate transaction: the escalation row is locked before its incident (the tick's
    # order), never while this one holds the incident.
    escalation_id = (
        Escalation.objects.filter(incident_id=incident.pk).values_list("pk", flat=True).first()
    )
    if escalation_id is None:
        return 0
    return escalation_advance(escalation_id=escalation_id, now=now, force=True)
