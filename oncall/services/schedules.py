"""Schedules, their layers (rotations) and roster versions.

Each change re-checks the seeds' rules (``oncall.rules``): a warning that the change brings
and nobody accepted refuses it (``WarningsNotAccepted``, nothing saved). Each also re-plans
the layers' next hand-off, so the reconciler sees the change at once.
"""

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from ircore.errors import ConflictError, RuleError
from ircore.models import Team

from ..models import Layer, LayerRoster, RosterMember, Schedule, validate_time_zone
from ..selectors import load_layer, plan_of
from ._base import Saved, attributed, confirm_rules, now_or, person, text, warning_keys
from .handoffs import replan_handoffs

User = AbstractBaseUser
Kind = Layer.Kind
DAY_KINDS = (Kind.DAILY, Kind.WEEKLY, Kind.FORTNIGHTLY)
MAX_DAYS, MAX_HOURS = 366, 336
LAYER_FIELDS = (
    "name",
    "level",
    "kind",
    "every",
    "start_date",
    "handoff_time",
    "active_from",
    "active_until",
    "active_days",
)


# --- schedules -------------------------------------------------------------------------------


def _time_zone(value: Any) -> str:
    value = text("time_zone", value, limit=64, required=True)
    try:
        validate_time_zone(value)
    except ValidationError:
        raise RuleError(
            f"“{value}” is not a known time zone (e.g. Europe/London).", field="time_zone"
        ) from None
    return value


def _schedule_values(values: dict, schedule: Schedule | None) -> dict:
    clean = {}
    if "name" in values:
        clean["name"] = text("name", values["name"], limit=100, required=True)
    if "slug" in values:
        slug = text("slug", values["slug"], limit=100) or slugify(clean.get("name", ""))
        if not slug or slugify(slug) != slug:
            raise RuleError("Use letters, digits, hyphens and underscores.", field="slug")
        clean["slug"] = slug
    if "time_zone" in values:
        clean["time_zone"] = _time_zone(values["time_zone"])
    if "description" in values:
        clean["description"] = text("description", values["description"], limit=5000)
    if "team" in values:
        if not isinstance(values["team"], Team):
            raise RuleError("Name a team.", field="team")
        clean["team"] = values["team"]
    others = Schedule.objects.exclude(pk=schedule.pk) if schedule else Schedule.objects.all()
    if "slug" in clean and others.filter(slug=clean["slug"]).exists():
        raise RuleError(f"Another schedule is called “{clean['slug']}”.", field="slug")
    team = clean.get("team", schedule.team if schedule else None)
    name = clean.get("name", schedule.name if schedule else None)
    if others.filter(team=team, name=name).exists():
        raise RuleError(f"{team} already has a schedule called “{name}”.", field="name")
    return clean


def schedule_create(
    *,
    team: Team,
    name: str,
    slug: str = "",
    time_zone: str = "UTC",
    description: str = "",
    by: User | None = None,
) -> Schedule:
    """A schedule with no layers yet (the rules are checked as layers are added)."""
    with transaction.atomic():
        values = _schedule_values(
            {
                "team": team,
                "name": name,
                "slug": slug or slugify(name),
                "time_zone": time_zone,
                "description": description,
            },
            None,
        )
        schedule = attributed(Schedule(**values), by)
        schedule.save()
    return schedule


def schedule_update(
    *,
    schedule: Schedule,
    by: User | None,
    accept_warnings: bool = False,
    now: datetime | None = None,
    **changes: Any,
) -> Saved:
    """Rename, move to another team, or change the time zone (every layer's hand-offs then
    read on the new zone's clock)."""
    now = now_or(now)
    unknown = set(changes) - {"team", "name", "slug", "time_zone", "description"}
    if unknown:
        raise RuleError("Not a schedule field.", field=sorted(unknown)[0])
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        before = warning_keys(schedule, now)
        for name, value in _schedule_values(changes, schedule).items():
            setattr(schedule, name, value)
        attributed(schedule, by).save()
        warnings = confirm_rules(schedule=schedule, accept=accept_warnings, before=before, now=now)
        for layer in schedule.layers.all():
            replan_handoffs(layer=layer, now=now)
    return Saved(schedule, warnings)


def schedule_delete(*, schedule: Schedule, by: User | None) -> None:
    """Remove a schedule with its layers, rosters, overrides and feed links (their history
    stays)."""
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        attributed(schedule, by).delete()


# --- layers ----------------------------------------------------------------------------------


def _layer_values(values: dict, layer: Layer | None, schedule: Schedule) -> dict:
    """Check and normalise a layer's fields; ``layer`` is the current row (None: new)."""
    merged = {f: getattr(layer, f) for f in LAYER_FIELDS} if layer else {}
    merged.update(values)
    clean: dict[str, Any] = {}
    clean["name"] = text("name", merged.get("name"), limit=60, required=True)
    level = merged.get("level")
    if level is None:
        level = (max(schedule.layers.values_list("level", flat=True), default=0)) + 1
    if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 20:
        raise RuleError("A level from 1 (primary) to 20.", field="level")
    clean["level"] = level
    kind = merged.get("kind", Kind.WEEKLY)
    if kind not in Kind.values:
        raise RuleError(f"One of {', '.join(Kind.values)}.", field="kind")
    clean["kind"] = kind
    every = merged.get("every", 1)
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise RuleError("A whole number of 1 or more.", field="every")
    if kind in DAY_KINDS and every != 1:
        raise RuleError(
            f"A {Kind(kind).label.lower()} rotation has no N; use “every N days”.", field="every"
        )
    if kind == Kind.DAYS and every > MAX_DAYS:
        raise RuleError(f"At most {MAX_DAYS} days.", field="every")
    if kind == Kind.HOURS and every > MAX_HOURS:
        raise RuleError(f"At most {MAX_HOURS} hours (two weeks).", field="every")
    clean["every"] = every
    start_date = merged.get("start_date")
    if not isinstance(start_date, date) or isinstance(start_date, datetime):
        raise RuleError("Give the date of the first shift.", field="start_date")
    if not 2000 <= start_date.year < 2200:
        raise RuleError("Give a date between 2000 and 2199.", field="start_date")
    clean["start_date"] = start_date
    for name in ("handoff_time", "active_from", "active_until"):
        value = merged.get(name, time(9) if name == "handoff_time" else None)
        if value is not None and not isinstance(value, time):
            raise RuleError("Give a time of day, e.g. 09:00.", field=name)
        if value is not None and value.tzinfo is not None:
            raise RuleError("A time of day on the schedule's clock, without a zone.", field=name)
        clean[name] = value
    if clean["handoff_time"] is None:
        raise RuleError("Give the hand-off time of day.", field="handoff_time")
    if (clean["active_from"] is None) != (clean["active_until"] is None):
        missing = "active_until" if clean["active_until"] is None else "active_from"
        raise RuleError("Give both ends of the active hours, or neither.", field=missing)
    days = merged.get("active_days") or ""
    if isinstance(days, list | tuple | set | frozenset):
        days = "".join(str(d) for d in days)
    if not isinstance(days, str) or any(d not in "1234567" for d in days):
        raise RuleError("ISO weekday numbers, 1 (Monday) to 7 (Sunday).", field="active_days")
    clean["active_days"] = "".join(sorted(set(days)))
    others = schedule.layers.exclude(pk=layer.pk) if layer else schedule.layers.all()
    clash = others.filter(level=level).first()
    if clash:
        raise RuleError(f"{clash.name} is already level {level}.", field="level")
    if others.filter(name=clean["name"]).exists():
        raise RuleError(f"{schedule} already has a layer “{clean['name']}”.", field="name")
    return clean


def layer_create(
    *,
    schedule: Schedule,
    by: User | None,
    accept_warnings: bool = False,
    members: Sequence[User] | None = None,
    now: datetime | None = None,
    **values: Any,
) -> Saved:
    """A rotation; ``members`` (in order) make its first roster, from its start date."""
    now = now_or(now)
    unknown = set(values) - set(LAYER_FIELDS)
    if unknown:
        raise RuleError("Not a layer field.", field=sorted(unknown)[0])
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        before = warning_keys(schedule, now)
        layer = attributed(Layer(schedule=schedule, **_layer_values(values, None, schedule)), by)
        layer.save()
        if members is not None:
            _roster_write(layer, layer.start_date, members, by, now, first=True)
        warnings = confirm_rules(schedule=schedule, accept=accept_warnings, before=before, now=now)
        replan_handoffs(layer=layer, now=now)
    return Saved(layer, warnings)


def layer_update(
    *,
    layer: Layer,
    by: User | None,
    accept_warnings: bool = False,
    now: datetime | None = None,
    **changes: Any,
) -> Saved:
    """Change a rotation. The pattern (length, start, hand-off, hours) is the layer's whole
    plan: changing it re-plans the layer from its start, as the history records."""
    now = now_or(now)
    unknown = set(changes) - set(LAYER_FIELDS)
    if unknown:
        raise RuleError("Not a layer field.", field=sorted(unknown)[0])
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=layer.schedule_id)
        layer = Layer.objects.get(pk=layer.pk)
        before = warning_keys(schedule, now)
        for name, value in _layer_values(changes, layer, schedule).items():
            setattr(layer, name, value)
        attributed(layer, by).save()
        warnings = confirm_rules(schedule=schedule, accept=accept_warnings, before=before, now=now)
        replan_handoffs(layer=layer, now=now)
    return Saved(layer, warnings)


def layer_delete(
    *, layer: Layer, by: User | None, accept_warnings: bool = False, now=None
) -> Saved:
    now = now_or(now)
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=layer.schedule_id)
        before = warning_keys(schedule, now)
        attributed(layer, by).delete()
        warnings = confirm_rules(schedule=schedule, accept=accept_warnings, before=before, now=now)
    return Saved(schedule, warnings)


# --- roster versions -------------------------------------------------------------------------


def _members(members: Sequence[Any]) -> list[Any]:
    if isinstance(members, str | bytes) or not isinstance(members, Sequence | list | tuple):
        raise RuleError("List the participants in order.", field="members")
    seen, clean = set(), []
    for user in members:
        person("members", user)
        if user.pk in seen:
            raise RuleError(f"{user.get_username()} is listed twice.", field="members")
        seen.add(user.pk)
        clean.append(user)
    return clean


def _in_force_check(layer: Layer, day: date, now: datetime, *, field: str) -> None:
    """A roster version may only take over at a hand-off still to come, so the past and the
    shift in progress never change."""
    loaded = load_layer(layer.pk, now, now)
    takes_over = plan_of(loaded).takes_over_at(day)
    if takes_over <= now:
        shown = takes_over.astimezone(layer.schedule.zone).strftime("%a %d %b %Y %H:%M")
        raise RuleError(
            f"From {day:%d %b %Y} this roster would take over at the hand-off of {shown}, "
            "which has passed: it would rewrite who was on call. Choose a later date.",
            field=field,
        )


def _roster_write(layer, day, members, by, now, *, first=False) -> LayerRoster:
    members = _members(members)
    existing = LayerRoster.objects.filter(layer=layer, effective_from=day).first()
    if not first:
        _in_force_check(layer, day, now, field="effective_from")
    if existing is None:
        roster = attributed(LayerRoster(layer=layer, effective_from=day), by)
        roster.save()
    else:
        roster = existing
        for entry in RosterMember.objects.filter(roster=roster):
            attributed(entry, by).delete()
    for position, user in enumerate(members):
        attributed(RosterMember(roster=roster, user=user, position=position), by).save()
    return roster


def roster_set(
    *,
    layer: Layer,
    effective_from: date,
    members: Sequence[User],
    by: User | None,
    accept_warnings: bool = False,
    now: datetime | None = None,
) -> Saved:
    """The participants, in order, from ``effective_from`` on (replacing a version of that
    date still to come). A layer's first roster may date back to the layer's start: nobody
    was on call before it, so there is nothing to rewrite."""
    now = now_or(now)
    if not isinstance(effective_from, date) or isinstance(effective_from, datetime):
        raise RuleError("Give the date the roster takes effect.", field="effective_from")
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=layer.schedule_id)
        layer = Layer.objects.select_related("schedule").get(pk=layer.pk)
        before = warning_keys(schedule, now)
        first = not LayerRoster.objects.filter(layer=layer).exists()
        roster = _roster_write(layer, effective_from, members, by, now, first=first)
        warnings = confirm_rules(schedule=schedule, accept=accept_warnings, before=before, now=now)
        replan_handoffs(layer=layer, now=now)
    return Saved(roster, warnings)


def roster_delete(
    *, roster: LayerRoster, by: User | None, accept_warnings: bool = False, now=None
) -> Saved:
    """Drop a roster version that has not taken over yet."""
    now = now_or(now)
    with transaction.atomic():
        layer = Layer.objects.select_related("schedule").get(pk=roster.layer_id)
        schedule = Schedule.objects.select_for_update().get(pk=layer.schedule_id)
        before = warning_keys(schedule, now)
        try:
            _in_force_check(layer, roster.effective_from, now, field="effective_from")
        except RuleError:
            raise ConflictError(
                "This roster is in force or has been: it is part of the record. Add a "
                "version from a later date instead.",
                field="effective_from",
            ) from None
        for entry in RosterMember.objects.filter(roster=roster):
            attributed(entry, by).delete()
        attributed(roster, by).delete()
        warnings = confirm_rules(schedule=schedule, accept=accept_warnings, before=before, now=now)
        replan_handoffs(layer=layer, now=now)
    return Saved(layer, warnings)
