"""The engine: starting an incident's escalation, and the tick that pages what is due.

Level-triggered and idempotent (DESIGN.md, "The clock"):

1. ``escalation_start`` snapshots the plan of the policy that applies (``plan``) and sets
   ``next_escalation_at``; the declaration's receiver calls it and kicks a tick for that
   incident, and every tick also starts the escalation of any incident declared in the last
   day that has none (a missed signal only delays the first page to the next tick).
2. ``escalation_tick`` reads the escalations due from the indexed ``next_escalation_at``;
   each is advanced in its own transaction: the escalation row under
   ``select_for_update(skip_locked=True)`` (a second engine skips it), then the incident row
   under a lock, read fresh: that is the ground truth a page is decided on. Every occurrence
   (step, round) due by now and not yet handled is handled once: skipped when the incident
   has reached the step's ``unless`` point, else paged (several rounds of one step due at
   once, after an outage, page once: the latest round); then the next due time is set. Its
   cost grows with what is due, not with the open incidents.
3. A ``Page`` per (incident, step, round, recipient or endpoint) under unique constraints,
   created in a savepoint, so a race never doubles a page; a page later than due by a minute
   or more records ``late_by`` and the timeline says how late.
"""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.models import Incident, TimelineEntry
from incidents.services import timeline_add
from ircore.links import absolute_url
from ircore.notifications import Status as DeliveryStatus
from ircore.notifications import notify_endpoint

from ...models import Escalation, Page, point_reached
from .. import contact
from .plan import Occurrence, next_due, pending, policy_for, snapshot
from .targets import resolve

logger = logging.getLogger(__name__)

# A page this much later than its due time is "late": recorded on the page and the timeline.
LATE_AFTER = timedelta(minutes=1)
# Escalations advanced per tick at most (the next tick takes the rest, oldest due first).
BATCH = 500
# A tick starts the escalations the declaration signal missed for incidents this recent.
MISSED_START_WINDOW = timedelta(days=1)


def _minutes(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes >= 120 and minutes % 60 == 0:
        return f"{int(minutes // 60)} h"
    return f"{minutes:g} min"


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def escalation_start(*, incident: Incident, now: datetime | None = None) -> Escalation:
    """Start ``incident``'s escalation (once: a second call returns the first one). Offsets
    count from the declaration; a plan with nothing to page says so on the timeline."""
    now = now or timezone.now()
    existing = Escalation.objects.filter(incident_id=incident.pk).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        incident = Incident.objects.select_related("severity").get(pk=incident.pk)
        policy = policy_for(incident)
        escalation = Escalation(
            incident=incident,
            policy=policy,
            plan=snapshot(policy),
            started_at=incident.declared_at,
        )
        escalation.next_escalation_at = next_due(escalation, incident.severity)
        try:
            with transaction.atomic():
                escalation.save()
        except IntegrityError:  # started meanwhile by another caller: theirs stands
            return Escalation.objects.get(incident_id=incident.pk)
        first = pending(escalation, incident.severity)
        if policy is None:
            text = (
                "No escalation policy applies (none for the affected service, its team, nor "
                "a default): nobody is paged by the clock."
            )
        elif not first:
            text = (
                f"Escalation policy “{policy.name}” has no step at {incident.severity.key}: "
                "nobody is paged by the clock."
            )
        else:
            text = (
                f"Escalation by policy “{policy.name}”: {len(first)} page step(s) at "
                f"{incident.severity.key}, the first at {_minutes(first[0].offset)}."
            )
        timeline_add(
            incident=incident,
            kind=TimelineEntry.Kind.ESCALATION,
            text=text,
            occurred_at=max(now, incident.declared_at),
            data={"policy": policy.name if policy else None, "steps": len(first)},
        )
    return escalation


def _start_missed(now: datetime) -> None:
    missed = (
        Incident.objects.open()
        .filter(
            declared_at__gte=now - MISSED_START_WINDOW,
            declared_at__lte=now,
            escalation__isnull=True,
        )
        .order_by("declared_at")[:BATCH]
    )
    for incident in missed:
        escalation_start(incident=incident, now=now)


def escalation_tick(*, now: datetime | None = None, incident_ids=None) -> int:
    """Page what is due by ``now``; returns how many pages were made. ``incident_ids``
    limits the tick to those incidents (the kick after a declaration)."""
    now = now or timezone.now()
    if incident_ids is None:
        _start_missed(now)
        due = Escalation.objects.due(now)
    else:
        for incident in Incident.objects.open().filter(
            pk__in=incident_ids, escalation__isnull=True
        ):
            escalation_start(incident=incident, now=now)
        due = Escalation.objects.due(now).filter(incident_id__in=incident_ids)
    ids = list(due.order_by("next_escalation_at", "pk").values_list("pk", flat=True)[:BATCH])
    paged = 0
    for pk in ids:
        try:
            paged += escalation_advance(escalation_id=pk, now=now)
        except Exception:  # one broken escalation must not hold up everyone else's pages
            logger.exception("Escalation %s could not advance; it stays due", pk)
    return paged


def escalation_advance(*, escalation_id: int, now: datetime, force: bool = False) -> int:
    """Advance one escalation to ``now`` (see the module docstring). ``force``: even when
    its next due time is later (a raised severity may have made passed steps apply).
    Returns the pages made; 0 when another engine holds the row."""
    with transaction.atomic():
        rows = Escalation.objects.select_for_update(skip_locked=True).filter(pk=escalation_id)
        if not force:
            rows = rows.filter(next_escalation_at__lte=now)
        escalation = rows.first()
        if escalation is None:
            return 0
        incident = (
            Incident.objects.select_for_update(of=("self",))
            .select_related("severity")
            .get(pk=escalation.incident_id)
        )
        paged = 0
        if incident.is_open:
            done = list(escalation.done)
            due_now = []
            for occurrence in pending(escalation, incident.severity):
                due = escalation.started_at + occurrence.offset
                if due > now:
                    break
                due_now.append((occurrence, due))
            # Several rounds of one step due at once (the clock was stopped, or rounds with
            # no gap): the latest round pages, once; the earlier ones are folded into it.
            latest = {o.position: o.repeat for o, _ in due_now}  # in due order: the last wins
            folded = {p: sum(1 for o, _ in due_now if o.position == p) - 1 for p in latest}
            for occurrence, due in due_now:
                done.append(occurrence.key)
                if occurrence.repeat != latest[occurrence.position]:
                    continue
                if not point_reached(incident, occurrence.step["unless"]):
                    paged += _page(
                        escalation,
                        incident,
                        occurrence,
                        due,
                        now,
                        folded=folded[occurrence.position],
                    )
            escalation.done = done
            escalation.next_escalation_at = next_due(escalation, incident.severity)
        else:
            escalation.next_escalation_at = None
        escalation.last_tick_at = now
        escalation.save(update_fields=["done", "next_escalation_at", "last_tick_at"])
    return paged


def _create(incident, occurrence, due, now, late_by, **target) -> Page | None:
    step = occurrence.step
    try:
        with transaction.atomic():
            return Page.objects.create(
                incident=incident,
                step=occurrence.position,
                repeat=occurrence.repeat,
                unless=step["unless"],
                target_label=step["label"][:200],
                due_at=due,
                paged_at=now,
                late_by=late_by,
                is_drill=incident.is_drill,
                **target,
            )
    except IntegrityError:  # the same page exists: another engine made it
        return None


def _notify_endpoint(page: Page, incident: Incident) -> None:
    delivery = notify_endpoint(
        endpoint=page.endpoint,
        subject=f"Page: {incident.reference} {incident.title}"[:300],
        body=(
            f"{incident.reference} ({incident.severity.key}): {incident.title}.\n"
            f"Escalation: {page.target_label} (step {page.step}, round {page.repeat})."
        ),
        topic=f"incidents.incident:{incident.pk}",
        dedupe_key=f"oncall.page:{page.pk}",
        payload={"page": page.pk, "incident": incident.reference},
        link=absolute_url(incident.get_absolute_url()),
    )
    page.delivery = delivery
    page.status = (
        Page.Status.FAILED if delivery.status == DeliveryStatus.FAILED else Page.Status.SENT
    )
    page.save(update_fields=["delivery", "status"])


def _page(
    escalation, incident, occurrence: Occurrence, due: datetime, now: datetime, folded: int = 0
) -> int:
    step = occurrence.step
    targets = resolve(step, incident, now)
    late = now - due
    late_by = late if late >= LATE_AFTER else None
    drill = "DRILL: " if incident.is_drill else ""
    what = f"step {occurrence.position}"
    if occurrence.repeat:
        what += f", round {occurrence.repeat + 1}"
    what += f": {step['label']}, due at {_minutes(occurrence.offset)}"
    data = {
        "step": occurrence.position,
        "repeat": occurrence.repeat,
        "due_at": due.isoformat(),
        "late_seconds": int(late_by.total_seconds()) if late_by else 0,
        "drill": incident.is_drill,
        "folded_rounds": folded,
    }
    if not targets:
        timeline_add(
            incident=incident,
            kind=TimelineEntry.Kind.ESCALATION,
            text=f"{drill}Nobody to page ({what}): {targets.reason}.",
            occurred_at=now,
            data={**data, "reason": targets.reason},
        )
        return 0
    made = [_create(incident, occurrence, due, now, late_by, recipient=p) for p in targets.people]
    made += [
        _create(incident, occurrence, due, now, late_by, endpoint=e) for e in targets.endpoints
    ]
    made = [page for page in made if page is not None]
    for page in made:
        page.incident = incident
        if page.recipient_id:
            contact.page_notify(page=page, now=now)
        else:
            _notify_endpoint(page, incident)
    if made:
        names = ", ".join(_name(p.recipient) if p.recipient_id else str(p.endpoint) for p in made)
        text = f"{drill}Paged {names} ({what})"
        if late_by:
            text += f": paged {int(late_by.total_seconds() // 60)} min late"
        if folded:
            text += f"; {folded} earlier round(s) of this step, due meanwhile, are this one page"
        timeline_add(
            incident=incident,
            kind=TimelineEntry.Kind.PAGE,
            text=text + ".",
            occurred_at=now,
            data={**data, "pages": [p.pk for p in made]},
        )
    return len(made)


def clock_lag(*, now: datetime | None = None) -> timedelta | None:
    """How late the engine is: now minus the oldest due ``next_escalation_at`` (None when
    nothing is due), for a health check to page about the pager. One indexed query."""
    now = now or timezone.now()
    oldest = (
        Escalation.objects.due(now)
        .order_by("next_escalation_at")
        .values_list("next_escalation_at", flat=True)
        .first()
    )
    return now - oldest if oldest else None
