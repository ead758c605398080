"""Hand-off notices: at each hand-off, the outgoing and the incoming person hear of it, with
the open incidents of the schedule's team that pass from one to the other.

The clock is a reconciler (``handoffs_send_due``), level-triggered and idempotent:

1. Every layer stores ``next_handoff_at``, the next moment it has something to say; every
   service that changes a layer's plan re-plans it (``replan_handoffs``), never past a time
   already due, so a change made between a hand-off and the next tick loses nothing.
2. A tick reads the layers due from that indexed column (its cost grows with what is due),
   locks each with ``select_for_update(skip_locked=True)`` (a second beat skips it), and
   notifies the latest hand-off since it was due: after an outage, hand-offs that a later
   one superseded are not sent late, the one in force is.
3. A ``HandoffNotice`` row per (layer, hand-off, person), under a unique constraint, and a
   delivery dedupe key, mean two ticks never notify twice.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.models import Incident
from ircore.notifications import notify_user

from ..models import HandoffNotice, Layer
from ..rotation import Handoff, handoffs, merge
from ..selectors import load_layer, people_of, plan_of

logger = logging.getLogger(__name__)

# Looking back this far finds who had the layer last, even across a weekend off.
LOOKBACK = timedelta(days=8)
# With no hand-off in sight, look again after this long (any change re-plans sooner).
HORIZON = timedelta(days=35)
INCIDENTS_LISTED = 20


def _loaded(layer_id: int, start: datetime, end: datetime) -> Layer | None:
    return load_layer(layer_id, start, end)


def _handoffs(layer: Layer, start: datetime, end: datetime) -> list[tuple[Handoff, datetime]]:
    """Real hand-offs at or after ``start`` and before ``end``, each with the end of the
    incoming person's stretch. The computation starts ``LOOKBACK`` earlier, so the person
    before is known; a "first ever" hand-off at that artificial start is none."""
    origin = start - LOOKBACK
    spans = list(merge(plan_of(layer).iter_spans(origin, end + HORIZON), key=lambda s: s.user_id))
    found = []
    for handoff in handoffs(spans):
        if handoff.at == origin and handoff.outgoing_id is None:
            continue
        if start <= handoff.at < end:
            stretch = next(s for s in spans if s.start == handoff.at)
            found.append((handoff, stretch.end))
    return found


def _next_handoff(layer_id: int, now: datetime) -> datetime:
    layer = _loaded(layer_id, now - LOOKBACK, now + HORIZON * 2)
    if layer is None:
        return now + HORIZON
    found = _handoffs(layer, now, now + HORIZON)
    return found[0][0].at if found else now + HORIZON


def replan_handoffs(*, layer: Layer, now: datetime) -> None:
    """Set when the layer next hands off. A time already due stays (the reconciler has not
    sent it yet); call inside the transaction of the change."""
    current = Layer.objects.filter(pk=layer.pk).values_list("next_handoff_at", flat=True).first()
    upcoming = _next_handoff(layer.pk, now)
    if current is not None and current <= now:
        return
    Layer.objects.filter(pk=layer.pk).update(next_handoff_at=upcoming)


def due_layers(*, now: datetime):
    """Layers whose next hand-off has come (``layer_handoff_due_idx``)."""
    return Layer.objects.filter(next_handoff_at__lte=now)


def handoffs_send_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Notify the hand-offs that are due; returns how many people were notified."""
    now = (now or timezone.now()).astimezone(UTC)
    ids = list(due_layers(now=now).order_by("next_handoff_at").values_list("pk", flat=True)[:limit])
    sent = 0
    for layer_id in ids:
        sent += _send_layer(layer_id, now)
    return sent


def _send_layer(layer_id: int, now: datetime) -> int:
    with transaction.atomic():
        locked = (
            Layer.objects.select_for_update(skip_locked=True)
            .filter(pk=layer_id, next_handoff_at__lte=now)
            .first()
        )
        if locked is None:  # another tick holds it, or did it already
            return 0
        since = locked.next_handoff_at
        layer = _loaded(layer_id, since - LOOKBACK, now + HORIZON * 2)
        found = _handoffs(layer, since, now + timedelta(microseconds=1))
        sent = 0
        if found:
            if len(found) > 1:
                logger.info(
                    "Layer %s: %s hand-offs superseded while late", layer_id, len(found) - 1
                )
            handoff, until = found[-1]
            sent = _notify(layer, handoff, until, now)
        upcoming = _handoffs(layer, now + timedelta(microseconds=1), now + HORIZON)
        nxt = upcoming[0][0].at if upcoming else now + HORIZON
        Layer.objects.filter(pk=layer_id).update(next_handoff_at=nxt)
    return sent


def _open_incidents(layer: Layer) -> list[Incident]:
    return list(
        Incident.objects.open()
        .filter(affected__service__team_id=layer.schedule.team_id)
        .select_related("severity")
        .distinct()
        .order_by("severity__rank", "declared_at")
    )


def _notify(layer: Layer, handoff: Handoff, until: datetime, now: datetime) -> int:
    people = people_of([layer])
    incoming = people.get(handoff.incoming_id)
    outgoing = people.get(handoff.outgoing_id) if handoff.outgoing_id else None
    incidents = _open_incidents(layer)
    zone = layer.schedule.zone
    at = handoff.at.astimezone(zone).strftime("%a %d %b %H:%M")
    ends = until.astimezone(zone).strftime("%a %d %b %H:%M")
    listing = _listing(incidents)
    late = now - handoff.at
    late_note = ""
    if late > timedelta(minutes=5):
        late_note = f"\n(This notice is {int(late.total_seconds() // 60)} minutes late.)"
    messages = []
    if incoming is not None:
        taking = f", taking over from {_name(outgoing)}" if outgoing else ""
        messages.append(
            (
                incoming,
                HandoffNotice.Role.INCOMING,
                f"On call: {layer} from {at} ({zone.key})",
                f"You are on call for {layer} from {at} until {ends} ({zone.key}){taking}."
                f"\n\n{listing}{late_note}",
            )
        )
    if outgoing is not None:
        messages.append(
            (
                outgoing,
                HandoffNotice.Role.OUTGOING,
                f"Off call: {layer} handed to {_name(incoming)} at {at}",
                f"Your turn on {layer} ends at {at} ({zone.key}); {_name(incoming)} takes "
                f"over until {ends}.\n\n{listing}{late_note}",
            )
        )
    sent = 0
    for user, role, subject, body in messages:
        try:
            with transaction.atomic():
                HandoffNotice.objects.create(
                    layer=layer,
                    shift_start=handoff.at,
                    user=user,
                    role=role,
                    open_incidents=len(incidents),
                    notified_at=now,
                )
        except IntegrityError:
            continue  # told already (a second tick, or the same moment seen twice)
        notify_user(
            user=user,
            subject=subject,
            body=body,
            topic=f"oncall.layer:{layer.pk}",
            dedupe_key=f"oncall-handoff:{layer.pk}:{handoff.at:%Y%m%dT%H%M%S}:{user.pk}",
            payload={
                "layer": layer.pk,
                "schedule": layer.schedule_id,
                "handoff_at": handoff.at.isoformat(),
                "role": role,
                "incidents": [i.reference for i in incidents],
            },
        )
        sent += 1
    return sent


def _name(user) -> str:
    if user is None:
        return "nobody"
    return user.get_full_name() or user.get_username()


def _listing(incidents: list[Incident]) -> str:
    if not incidents:
        return "No open incidents for this team."
    lines = [f"Open incidents you inherit ({len(incidents)}):"]
    for incident in incidents[:INCIDENTS_LISTED]:
        drill = " [drill]" if incident.is_drill else ""
        lines.append(
            f"- {incident.reference} {incident.severity.key} {incident.title} "
            f"({incident.get_status_display()}){drill}"
        )
    if len(incidents) > INCIDENTS_LISTED:
        lines.append(f"… and {len(incidents) - INCIDENTS_LISTED} more.")
    return "\n".join(lines)


__all__ = ["handoffs_send_due", "replan_handoffs", "due_layers"]
