"""The exceptions people make to a rotation: skips, overrides, and shift swaps (an offer that
a colleague takes, or a manager assigns, becomes an override; both hear of it)."""

from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ircore.errors import ConflictError, RuleError
from ircore.notifications import notify_user

from ..models import Layer, Override, ShiftSwapRequest, Skip
from ..rotation import to_utc
from ..selectors import load_layer, plan_of
from ._base import attributed, instant, now_or, person, text
from .handoffs import replan_handoffs

User = AbstractBaseUser
MAX_OVERRIDE = timedelta(days=366)
Status = ShiftSwapRequest.Status


def _shown(layer: Layer, at: datetime) -> str:
    return at.astimezone(layer.schedule.zone).strftime("%a %d %b %Y %H:%M")


def _range(start, end, *, now: datetime) -> tuple[datetime, datetime]:
    start, end = instant("start", start), instant("end", end)
    if end <= start:
        raise RuleError("The end must be after the start.", field="end")
    if end <= now:
        raise RuleError("This range is over: the record of who was on call stays.", field="end")
    if end - start > MAX_OVERRIDE:
        raise RuleError("At most a year at a time.", field="end")
    return start, end


# --- skips -----------------------------------------------------------------------------------


def skip_add(
    *,
    layer: Layer,
    user: User,
    day: date,
    days: int = 1,
    reason: str = "",
    by: User | None,
    now: datetime | None = None,
) -> Skip:
    """Skip a participant for ``days`` days from ``day`` (hand-off time to hand-off time):
    the next in the order covers, and the order goes on unchanged."""
    now = now_or(now)
    if not isinstance(day, date) or isinstance(day, datetime):
        raise RuleError("Give the first day skipped.", field="day")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 31:
        raise RuleError("From 1 to 31 days.", field="days")
    reason = text("reason", reason, limit=200)
    with transaction.atomic():
        layer = Layer.objects.select_for_update().select_related("schedule").get(pk=layer.pk)
        loaded = load_layer(layer.pk, now, now)
        plan = plan_of(loaded)
        end_at = _at_handoff(layer, day + timedelta(days=days))
        if end_at <= now:
            raise RuleError("Those days are over: the record of who was on call stays.", "day")
        members = {m for version in plan.rosters for m in version.members}
        if user.pk not in members:
            raise RuleError(f"{user.get_username()} is not in this rotation.", field="user")
        if Skip.objects.filter(layer=layer, user=user, day=day).exists():
            raise RuleError(f"{user.get_username()} is already skipped that day.", field="day")
        skip = attributed(
            Skip(layer=layer, user=user, day=day, days=days, reason=reason, created_by=by), by
        )
        skip.save()
        replan_handoffs(layer=layer, now=now)
    return skip


def _at_handoff(layer: Layer, day: date) -> datetime:
    return to_utc(datetime.combine(day, layer.handoff_time), layer.schedule.zone)


def skip_remove(*, skip: Skip, by: User | None, now: datetime | None = None) -> None:
    now = now_or(now)
    with transaction.atomic():
        layer = Layer.objects.select_for_update().select_related("schedule").get(pk=skip.layer_id)
        if _at_handoff(layer, skip.day) <= now:
            raise ConflictError("This skip has begun: it is part of the record.", field="day")
        attributed(skip, by).delete()
        replan_handoffs(layer=layer, now=now)


# --- overrides -------------------------------------------------------------------------------


def override_create(
    *,
    layer: Layer,
    user: User,
    start: datetime,
    end: datetime,
    reason: str = "",
    by: User | None,
    now: datetime | None = None,
) -> Override:
    """``user`` covers ``layer`` from ``start`` to ``end`` (within its active hours); over
    an earlier override, this one wins where they overlap."""
    now = now_or(now)
    start, end = _range(start, end, now=now)
    person("user", user)
    reason = text("reason", reason, limit=200)
    with transaction.atomic():
        layer = Layer.objects.select_for_update().select_related("schedule").get(pk=layer.pk)
        override = attributed(
            Override(
                layer=layer,
                user=user,
                start=start,
                end=end,
                reason=reason,
                created_by=by,
                created_at=now,
            ),
            by,
        )
        override.save()
        replan_handoffs(layer=layer, now=now)
    return override


def override_delete(*, override: Override, by: User | None, now: datetime | None = None) -> None:
    """Remove an override that has not begun (one under way is shortened by another)."""
    now = now_or(now)
    with transaction.atomic():
        layer = Layer.objects.select_for_update().get(pk=override.layer_id)
        if override.start <= now:
            raise ConflictError(
                "This override has begun: it is part of the record. Override it instead.",
                field="start",
            )
        attributed(override, by).delete()
        replan_handoffs(layer=layer, now=now)


# --- shift swaps -----------------------------------------------------------------------------


def _holds(layer: Layer, user, start: datetime, end: datetime) -> bool:
    """Whether ``user`` is on ``layer`` for the whole of [start, end)."""
    loaded = load_layer(layer.pk, start, end)
    covered = start
    for span in plan_of(loaded).spans(start, end):
        if span.user_id != user.pk or span.start > covered:
            return False
        covered = span.end
    return covered >= end


def swap_offer(
    *,
    layer: Layer,
    user: User,
    start: datetime,
    end: datetime,
    note: str = "",
    now: datetime | None = None,
) -> ShiftSwapRequest:
    """Offer [start, end) of one's own shift on ``layer`` to colleagues."""
    now = now_or(now)
    start, end = _range(start, end, now=now)
    start = max(start, now)
    note = text("note", note, limit=200)
    with transaction.atomic():
        layer = Layer.objects.select_for_update().select_related("schedule").get(pk=layer.pk)
        if not _holds(layer, user, start, end):
            raise RuleError(
                f"{user.get_username()} is not on call on {layer} for the whole of "
                f"{_shown(layer, start)} to {_shown(layer, end)}.",
                field="start",
            )
        request = attributed(
            ShiftSwapRequest(
                layer=layer, offered_by=user, start=start, end=end, note=note, created_at=now
            ),
            user,
        )
        request.save()
    return request


def _decide(request: ShiftSwapRequest, *, to, by, now: datetime) -> ShiftSwapRequest:
    person("user", to)
    with transaction.atomic():
        request = (
            ShiftSwapRequest.objects.select_for_update()
            .select_related("layer__schedule", "offered_by")
            .get(pk=request.pk)
        )
        if request.status != Status.OPEN:
            raise ConflictError(
                f"This offer is {request.get_status_display().lower()}.", field="status"
            )
        if request.end <= now:
            raise ConflictError("This shift is over.", field="end")
        if to.pk == request.offered_by_id:
            raise RuleError("The shift is already theirs.", field="user")
        start = max(request.start, now)
        if not _holds(request.layer, request.offered_by, start, request.end):
            raise ConflictError(
                "The shift has changed since it was offered (someone covers it already).",
                field="start",
            )
        override = override_create(
            layer=request.layer,
            user=to,
            start=start,
            end=request.end,
            reason=f"Shift swap #{request.pk} from {request.offered_by.get_username()}",
            by=by,
            now=now,
        )
        request.status, request.taken_by, request.override = Status.TAKEN, to, override
        request.assigned_by = by if by is not None and by.pk != to.pk else None
        request.decided_at = now
        attributed(request, by).save()
        _tell_both(request)
    return request


def swap_take(
    *, request: ShiftSwapRequest, user: User, now: datetime | None = None
) -> ShiftSwapRequest:
    """A colleague takes the offered shift: an override for them, both notified."""
    return _decide(request, to=user, by=user, now=now_or(now))


def swap_assign(
    *, request: ShiftSwapRequest, to: User, by: User, now: datetime | None = None
) -> ShiftSwapRequest:
    """A manager gives the offered shift to someone: an override, both notified."""
    return _decide(request, to=to, by=by, now=now_or(now))


def swap_cancel(
    *, request: ShiftSwapRequest, by: User | None, now: datetime | None = None
) -> ShiftSwapRequest:
    now = now_or(now)
    with transaction.atomic():
        request = ShiftSwapRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.OPEN:
            raise ConflictError(
                f"This offer is {request.get_status_display().lower()}.", field="status"
            )
        request.status, request.decided_at = Status.CANCELLED, now
        attributed(request, by).save()
    return request


def _tell_both(request: ShiftSwapRequest) -> None:
    layer, taker, offerer = request.layer, request.taken_by, request.offered_by
    span = f"{_shown(layer, request.override.start)} to {_shown(layer, request.end)}"
    zone = layer.schedule.time_zone
    how = (
        f"{request.assigned_by.get_full_name() or request.assigned_by.get_username()} assigned it"
        if request.assigned_by
        else "they took it"
    )
    for user, subject, body in (
        (
            offerer,
            f"Your shift on {layer} is covered",
            f"{_who(taker)} covers your shift on {layer} from {span} ({zone}); {how}.",
        ),
        (
            taker,
            f"You cover {_who(offerer)} on {layer}",
            f"You are on call for {layer} from {span} ({zone}), covering {_who(offerer)}.",
        ),
    ):
        notify_user(
            user=user,
            subject=subject,
            body=body,
            topic=f"oncall.shiftswaprequest:{request.pk}",
            dedupe_key=f"oncall-swap:{request.pk}:{user.pk}",
            payload={"swap": request.pk, "layer": layer.pk, "override": request.override_id},
        )


def _who(user) -> str:
    return user.get_full_name() or user.get_username()
