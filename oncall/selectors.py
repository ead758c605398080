"""Reads of who is on call, shared by the admin, the API, the feeds and the reconciler.

Each loads what the rotation maths needs in a fixed number of queries (schedules, layers,
rosters, roster members, overrides and skips near the range, the people), whatever the
number of schedules, and computes in Python (``oncall.rotation``).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from .models import Layer, LayerRoster, Override, RosterMember, Schedule, Skip
from .rotation import LayerPlan, OverrideSpec, RosterVersion, SkipSpec, Span, final_spans, merge

User = get_user_model()

# How far ahead "until" looks for the end of the current stretch.
UNTIL_HORIZON = timedelta(days=35)
# Skips last at most 31 days (Skip.days), plus a day for time zones.
SKIP_REACH = timedelta(days=32)


def load_layers(start: datetime, end: datetime, *, layers: QuerySet | None = None) -> list[Layer]:
    """Layers with what the rotation maths needs for [start, end): their roster versions
    (``roster_versions``), and the overrides (``overrides_near``) and skips (``skips_near``)
    that can touch the range. Five queries whatever the number of layers; rosters and members
    are read as plain values, since the same few people rotate on many layers and model rows
    for each would cost more than the maths. The people themselves: ``people_of``."""
    base = layers if layers is not None else Layer.objects.all()
    rows = list(base.select_related("schedule"))
    ids = [layer.pk for layer in rows]
    if not ids:
        return rows
    members: dict[int, list[int]] = defaultdict(list)
    for roster_id, user_id in (
        RosterMember.objects.filter(roster__layer_id__in=ids)
        .order_by("roster_id", "position")
        .values_list("roster_id", "user_id")
    ):
        members[roster_id].append(user_id)
    versions: dict[int, list[RosterVersion]] = defaultdict(list)
    for roster_id, layer_id, day in (
        LayerRoster.objects.filter(layer_id__in=ids)
        .order_by("effective_from")
        .values_list("id", "layer_id", "effective_from")
    ):
        versions[layer_id].append(RosterVersion(day, tuple(members[roster_id])))
    overrides: dict[int, list[Override]] = defaultdict(list)
    for override in Override.objects.filter(layer_id__in=ids, start__lt=end, end__gt=start):
        overrides[override.layer_id].append(override)
    skips: dict[int, list[Skip]] = defaultdict(list)
    for skip in Skip.objects.filter(
        layer_id__in=ids,
        day__gte=(start - SKIP_REACH).date(),
        day__lte=(end + timedelta(days=1)).date(),
    ):
        skips[skip.layer_id].append(skip)
    for layer in rows:
        layer.roster_versions = versions[layer.pk]
        layer.overrides_near = overrides[layer.pk]
        layer.skips_near = skips[layer.pk]
    return rows


def load_layer(layer_id: int, start: datetime, end: datetime) -> Layer | None:
    found = load_layers(start, end, layers=Layer.objects.filter(pk=layer_id))
    return found[0] if found else None


def plan_of(layer: Layer, *, zone=None, with_exceptions: bool = True) -> LayerPlan:
    """The rotation maths' view of a layer loaded by ``load_layers`` (no queries).
    ``with_exceptions=False`` leaves out overrides and skips: the pattern alone."""
    length_days = {"daily": 1, "weekly": 7, "fortnightly": 14, "days": layer.every}.get(layer.kind)
    return LayerPlan(
        layer_id=layer.pk,
        level=layer.level,
        zone=zone or layer.schedule.zone,
        start_date=layer.start_date,
        handoff_time=layer.handoff_time,
        length_days=length_days,
        length_hours=None if length_days else layer.every,
        active_from=layer.active_from,
        active_until=layer.active_until,
        active_days=frozenset(int(d) for d in layer.active_days),
        rosters=list(layer.roster_versions),
        skips=[SkipSpec(s.user_id, s.day, s.days) for s in layer.skips_near]
        if with_exceptions
        else [],
        overrides=[
            OverrideSpec(o.pk, o.user_id, o.start, o.end, (o.created_at, o.pk))
            for o in layer.overrides_near
        ]
        if with_exceptions
        else [],
    )


def people_of(layers) -> dict[int, object]:
    """The users the loaded layers can put on call, with their profiles, by id: one query."""
    ids = set()
    for layer in layers:
        for version in layer.roster_versions:
            ids.update(version.members)
        ids.update(o.user_id for o in layer.overrides_near)
    if not ids:
        return {}
    return {user.pk: user for user in User.objects.filter(pk__in=ids).select_related("profile")}


# --- who is on call at an instant ------------------------------------------------------------


@dataclass
class OnCall:
    """Who a layer (or the whole schedule, ``final``) has on call at an instant."""

    layer: Layer
    user: object | None = None
    span: Span | None = None
    until: datetime | None = None

    @property
    def kind(self) -> str:
        return self.span.kind if self.span else ""


@dataclass
class ScheduleOnCall:
    schedule: Schedule
    layers: list[OnCall] = field(default_factory=list)
    final: OnCall | None = None


def _current(plan: LayerPlan, at: datetime, horizon: datetime) -> tuple[Span | None, datetime]:
    """The span holding ``at`` (its end the end of that person's stretch), or None and the
    start of the layer's next span."""
    pieces = merge(plan.iter_spans(at, horizon), key=lambda s: s.user_id)
    first = next(pieces, None)
    if first is None:
        return None, horizon
    if first.start > at:
        return None, first.start
    return first, first.end


def on_call_now(
    *, at: datetime | None = None, schedules: QuerySet | None = None
) -> list[ScheduleOnCall]:
    """Who is on call at ``at`` (now) on every layer of every schedule, and the final person
    (lowest level with someone), with the end of their stretch. Seven queries in all."""
    at = (at or timezone.now()).astimezone(UTC)
    horizon = at + UNTIL_HORIZON
    queryset = schedules if schedules is not None else Schedule.objects.all()
    schedule_rows = list(queryset.select_related("team"))
    by_schedule: dict[int, list[Layer]] = defaultdict(list)
    all_layers = load_layers(
        at,
        horizon,
        layers=Layer.objects.filter(schedule_id__in=[s.pk for s in schedule_rows]).order_by(
            "level"
        ),
    )
    for layer in all_layers:
        by_schedule[layer.schedule_id].append(layer)
    people = people_of(all_layers)
    result = []
    for schedule in schedule_rows:
        zone = schedule.zone
        layers = by_schedule[schedule.pk]
        row = ScheduleOnCall(schedule)
        next_starts = []
        for layer in layers:
            layer.schedule = schedule  # the prefetched parent: no query for __str__
            span, bound = _current(plan_of(layer, zone=zone), at, horizon)
            entry = OnCall(layer, people.get(span.user_id) if span else None, span, bound)
            row.layers.append(entry)
            if span is not None and row.final is None:
                # A layer of a lower level beginning sooner ends the final stretch.
                ends = min([bound, *next_starts])
                row.final = OnCall(layer, entry.user, span, ends)
            elif span is None:
                next_starts.append(bound)
        result.append(row)
    return result


def layer_on_call(*, layer: Layer, at: datetime | None = None):
    """The person ``layer`` has on call at ``at`` (now), or None: what the escalation engine
    pages for "the current on-call of a schedule layer"."""
    at = (at or timezone.now()).astimezone(UTC)
    loaded = load_layer(layer.pk, at, at + timedelta(seconds=1))
    spans = plan_of(loaded).spans(at, at + timedelta(seconds=1))
    return people_of([loaded]).get(spans[0].user_id) if spans else None


# --- shifts over a range ---------------------------------------------------------------------


@dataclass
class LayerShifts:
    layer: Layer
    spans: list[Span]


@dataclass
class ScheduleShifts:
    schedule: Schedule
    start: datetime
    end: datetime
    layers: list[LayerShifts]
    final: list[Span]
    people: dict


def schedule_shifts(*, schedule: Schedule, start: datetime, end: datetime) -> ScheduleShifts:
    """Every layer's shifts and the final ones over [start, end), in five queries."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    layers = load_layers(start, end, layers=schedule.layers.order_by("level"))
    zone = schedule.zone
    per_layer = []
    for layer in layers:
        layer.schedule = schedule
        per_layer.append(LayerShifts(layer, plan_of(layer, zone=zone).spans(start, end)))
    final = final_spans(
        {row.layer.pk: row.spans for row in per_layer},
        {row.layer.pk: row.layer.level for row in per_layer},
    )
    return ScheduleShifts(schedule, start, end, per_layer, final, people_of(layers))


def person_shifts(*, user, start: datetime, end: datetime) -> list[tuple[Layer, Span]]:
    """One person's shifts over [start, end) on every layer they rotate on or cover."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    theirs = Layer.objects.filter(
        Exists(RosterMember.objects.filter(roster__layer=OuterRef("pk"), user=user))
        | Exists(
            Override.objects.filter(layer=OuterRef("pk"), user=user, start__lt=end, end__gt=start)
        )
    )
    layers = load_layers(start, end, layers=theirs.order_by("schedule__name", "level"))
    found = []
    for layer in layers:
        for span in plan_of(layer).spans(start, end):
            if span.user_id == user.pk:
                found.append((layer, span))
    found.sort(key=lambda pair: (pair[1].start, pair[0].pk))
    return found


def schedule_list() -> QuerySet[Schedule]:
    return Schedule.objects.select_related("team").order_by("team__name", "name")
