"""The ``schedules`` section: each team's schedules with their layers (rotations) and roster
versions, people by username, so a rotation is reviewed and versioned like the rest.

::

    schedules:
      - slug: payments-on-call
        name: Payments on call
        team: payments                 # the team's slug
        time_zone: Europe/London
        description: ""
        layers:
          - name: Primary
            level: 1
            kind: weekly               # daily, weekly, fortnightly, days, hours
            every: 1                   # N, for "days" and "hours"
            start_date: 2026-11-23
            handoff_time: "09:00"      # quoted: YAML reads 09:00 as a number
            active_from: null          # "08:00" with active_until: restricted hours
            active_until: null
            active_days: []            # ISO weekdays, [1, 2, 3, 4, 5]; empty: every day
            rosters:                   # the version in force now, and those to come
              - effective_from: 2026-11-23
                members: [maria, raj, dana]

Import goes through the on-call services (``oncall.services``), so a roster version still
takes over only at a hand-off to come (the past and the shift in progress never change), and
history is attributed to the importing user with the reason "policy import". Roster versions
already in force before the file's first one are the record and stay; versions to come that
the file no longer lists are dropped. The seeds' rotation rules (two people, a week a month)
are accepted as warnings: the file is the reviewed decision, and the schedule's page still
shows them. Overrides, skips and swaps are day-to-day changes and do not travel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import update_change_reason

from ircore.errors import RuleError
from ircore.models import Team
from ircore.policy import CHANGE_REASON, Counts, EntryReader, PolicyError, PolicySection
from ircore.policy.entries import Unique, deletion_problems, entries, max_length, suggest
from ircore.policy.problems import show
from ircore.policy.registry import ImportContext

from .. import services
from ..models import (
    FeedToken,
    HandoffNotice,
    Layer,
    LayerRoster,
    Override,
    RosterMember,
    Schedule,
    ShiftSwapRequest,
    Skip,
    validate_time_zone,
)
from ..selectors import load_layers, plan_of
from .fields import (
    format_time,
    format_weekdays,
    read_date,
    read_time,
    read_weekdays,
    username,
    users_named,
)

SCHEDULE_FIELDS = ("slug", "name", "team", "time_zone", "description", "layers")
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
    "rosters",
)
ROSTER_FIELDS = ("effective_from", "members")
# What a schedule's removal takes with it (the rows are its own, not references to it).
OWNED = {
    Schedule,
    Layer,
    LayerRoster,
    RosterMember,
    Skip,
    Override,
    ShiftSwapRequest,
    FeedToken,
    HandoffNotice,
}
MAX_LAYERS = 20


# --- export ----------------------------------------------------------------------------------


def _current_versions(layer: Layer, now: datetime) -> list:
    """The roster version in force now and those to come (``load_layers`` rows)."""
    versions = sorted(layer.roster_versions, key=lambda v: v.effective_from)
    plan = plan_of(layer, with_exceptions=False)
    settled = [v for v in versions if plan.takes_over_at(v.effective_from) <= now]
    first = versions.index(settled[-1]) if settled else 0
    return versions[first:]


def export_schedules(*, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or timezone.now()
    layers = load_layers(now, now + timedelta(seconds=1), layers=Layer.objects.order_by("level"))
    ids = {m for layer in layers for v in layer.roster_versions for m in v.members}
    names = {u.pk: username(u) for u in get_user_model().objects.filter(pk__in=ids)}
    by_schedule: dict[int, list[Layer]] = {}
    for layer in layers:
        by_schedule.setdefault(layer.schedule_id, []).append(layer)
    out = []
    for schedule in Schedule.objects.select_related("team").order_by("slug"):
        out.append(
            {
                "slug": schedule.slug,
                "name": schedule.name,
                "team": schedule.team.slug,
                "time_zone": schedule.time_zone,
                "description": schedule.description,
                "layers": [
                    {
                        "name": layer.name,
                        "level": layer.level,
                        "kind": layer.kind,
                        "every": layer.every,
                        "start_date": layer.start_date.isoformat(),
                        "handoff_time": format_time(layer.handoff_time),
                        "active_from": format_time(layer.active_from),
                        "active_until": format_time(layer.active_until),
                        "active_days": format_weekdays(layer.active_days),
                        "rosters": [
                            {
                                "effective_from": v.effective_from.isoformat(),
                                "members": [names[m] for m in v.members],
                            }
                            for v in _current_versions(layer, now)
                        ],
                    }
                    for layer in by_schedule.get(schedule.pk, [])
                ],
            }
        )
    return out


# --- validate --------------------------------------------------------------------------------


@dataclass
class RosterEntry:
    label: str
    effective_from: date | None
    names: list[str]
    members: list = field(default_factory=list)


@dataclass
class LayerEntry:
    label: str
    values: dict[str, Any]
    rosters: list[RosterEntry]


@dataclass
class ScheduleEntry:
    label: str
    slug: str
    values: dict[str, Any]
    team_slug: str
    layers: list[LayerEntry]


@dataclass
class SchedulesPlan:
    entries: list[ScheduleEntry]
    delete: list[Schedule]
    delete_layers: list[Layer]
    now: datetime


def _read_layer(r: EntryReader) -> LayerEntry:
    values: dict[str, Any] = {
        "name": r.text("name", required=True, max_length=max_length(Layer, "name")),
        "level": r.integer("level", required=True, minimum=1, maximum=MAX_LAYERS),
    }
    kind = r.text("kind", required=True)
    if kind and kind not in Layer.Kind.values:
        r.problem("kind", f"unknown kind{suggest(kind, Layer.Kind.values)}")
    values["kind"] = kind
    every = r.integer("every", minimum=1, maximum=services.schedules.MAX_DAYS)
    every = 1 if every is None else every
    if kind in services.schedules.DAY_KINDS and every != 1:
        r.problem("every", f"a {kind} rotation has no N (use kind: days with every: {every})")
    if kind == Layer.Kind.HOURS and every > services.schedules.MAX_HOURS:
        r.problem("every", f"{every} hours is more than two weeks (at most 336)")
    values["every"] = every
    values["start_date"] = read_date(r, "start_date", required=True)
    values["handoff_time"] = read_time(r, "handoff_time", required=True)
    values["active_from"] = read_time(r, "active_from")
    values["active_until"] = read_time(r, "active_until")
    if (r.raw("active_from") is None) != (r.raw("active_until") is None):
        missing = "active_until" if r.raw("active_until") is None else "active_from"
        r.problem(missing, "give both ends of the active hours, or neither")
    values["active_days"] = read_weekdays(r, "active_days")
    rosters = []
    dates = Unique()
    raw = r.raw("rosters")
    if raw is not None and not isinstance(raw, list):
        r.problem("rosters", f"expected a list of roster versions, got {show(raw)}")
        raw = []
    for k, data in enumerate(raw or []):
        rr = EntryReader(r.ctx, f"{r.label}.rosters[{k}]", data, ROSTER_FIELDS, key=None)
        day = read_date(rr, "effective_from", required=True)
        dates.check(rr, "effective_from", day, shown=str(day))
        rosters.append(RosterEntry(rr.label, day, rr.text_list("members", unique=True)))
    return LayerEntry(r.label, values, rosters)


def validate_schedules(value: Any, ctx: ImportContext) -> SchedulesPlan:
    now = timezone.now()
    found: list[ScheduleEntry] = []
    slugs, team_names = Unique(), Unique()
    readers: list[tuple[EntryReader, ScheduleEntry]] = []
    for i, data in enumerate(entries(ctx, "schedules", value)):
        r = EntryReader(ctx, f"schedules[{i}]", data, SCHEDULE_FIELDS, key="slug")
        slug = r.text("slug", required=True, max_length=max_length(Schedule, "slug"))
        if slug and slugify(slug) != slug:
            r.problem("slug", f"{show(slug)} is not a slug (letters, digits, hyphens)")
        slugs.check(r, "slug", slug or None)
        zone = r.text("time_zone", required=True, max_length=max_length(Schedule, "time_zone"))
        if zone:
            try:
                validate_time_zone(zone)
            except ValidationError:
                r.problem("time_zone", f"{show(zone)} is not a known time zone (Europe/London)")
        entry = ScheduleEntry(
            label=r.label,
            slug=slug,
            values={
                "name": r.text("name", required=True, max_length=max_length(Schedule, "name")),
                "time_zone": zone,
                "description": r.text("description", max_length=5000),
            },
            team_slug=r.text("team", required=True),
            layers=[],
        )
        team_names.check(r, "name", (entry.team_slug, entry.values["name"]), entry.values["name"])
        raw_layers = r.raw("layers")
        if raw_layers is not None and not isinstance(raw_layers, list):
            r.problem("layers", f"expected a list of layers, got {show(raw_layers)}")
            raw_layers = []
        if len(raw_layers or []) > MAX_LAYERS:
            r.problem("layers", f"lists {len(raw_layers)} layers (at most {MAX_LAYERS})")
            raw_layers = []
        names, levels = Unique(), Unique()
        for j, layer_data in enumerate(raw_layers or []):
            lr = EntryReader(ctx, f"{r.label}.layers[{j}]", layer_data, LAYER_FIELDS, key="name")
            layer = _read_layer(lr)
            names.check(lr, "name", layer.values["name"] or None)
            levels.check(lr, "level", layer.values["level"])
            entry.layers.append(layer)
        found.append(entry)
        readers.append((r, entry))

    teams = {t.slug: t for t in Team.objects.filter(slug__in={e.team_slug for e in found})}
    people = users_named({n for e in found for la in e.layers for v in la.rosters for n in v.names})
    for r, entry in readers:
        if entry.team_slug and entry.team_slug not in teams:
            r.problem("team", f"unknown team {show(entry.team_slug)}")
        entry.values["team"] = teams.get(entry.team_slug)
        for layer in entry.layers:
            for version in layer.rosters:
                for k, name in enumerate(version.names):
                    user = people.get(name)
                    if user is None:
                        where = f"{version.label}.members[{k}]"
                        ctx.problems.append(f"{where}: unknown user {show(name)}")
                    elif not user.is_active:
                        ctx.problems.append(
                            f"{version.label}.members[{k}]: {show(name)} is not an active user"
                        )
                    else:
                        version.members.append(user)

    wanted = {e.slug for e in found if e.slug}
    removed = Schedule.objects.exclude(slug__in=wanted).order_by("slug")
    delete = deletion_problems(ctx, "schedules", removed, OWNED)
    layer_owned = OWNED - {Schedule}
    delete_layers = []
    for entry in found:
        keep = {la.values["name"] for la in entry.layers}
        gone = Layer.objects.filter(schedule__slug=entry.slug).exclude(name__in=keep)
        delete_layers += deletion_problems(ctx, f"{entry.label}.layers", gone, layer_owned)
    return SchedulesPlan(found, delete, delete_layers, now)


# --- apply -----------------------------------------------------------------------------------


def _refused(label: str, exc: RuleError) -> PolicyError:
    where = f".{exc.field}" if getattr(exc, "field", None) else ""
    return PolicyError([f"{label}{where}: {exc.message}"])


def _reason(obj: Any) -> None:
    update_change_reason(obj, CHANGE_REASON)


def apply_schedules(plan: SchedulesPlan, ctx: ImportContext) -> Counts:
    counts, layer_counts = Counts(), Counts()
    by = ctx.user
    for layer in plan.delete_layers:
        services.layer_delete(layer=layer, by=by, accept_warnings=True, now=plan.now)
        layer_counts.deleted += 1
    for schedule in plan.delete:
        services.schedule_delete(schedule=schedule, by=by)
        counts.deleted += 1
    existing = {s.slug: s for s in Schedule.objects.select_related("team")}
    for entry in plan.entries:
        try:
            touched = _apply_schedule(entry, existing.get(entry.slug), plan.now, by, layer_counts)
        except PolicyError:
            raise
        except RuleError as exc:
            raise _refused(entry.label, exc) from None
        if touched == "created":
            counts.created += 1
        elif touched:
            counts.updated += 1
    ctx.summary.counts["layers"] = layer_counts
    return counts


def _apply_schedule(entry, schedule, now, by, layer_counts) -> str | bool:
    values = entry.values
    if schedule is None:
        schedule = services.schedule_create(
            team=values["team"],
            name=values["name"],
            slug=entry.slug,
            time_zone=values["time_zone"],
            description=values["description"],
            by=by,
        )
        _reason(schedule)
        touched: str | bool = "created"
    else:
        diff = {k: v for k, v in values.items() if getattr(schedule, k) != v}
        if diff:
            saved = services.schedule_update(
                schedule=schedule, by=by, accept_warnings=True, now=now, **diff
            )
            _reason(saved.obj)
        touched = bool(diff)
    layers = {la.name: la for la in schedule.layers.all()}
    for layer_entry in entry.layers:
        try:
            current = layers.get(layer_entry.values["name"])
            changed = _apply_layer(layer_entry, schedule, current, now, by)
        except PolicyError:
            raise
        except RuleError as exc:
            raise _refused(layer_entry.label, exc) from None
        if changed == "created":
            layer_counts.created += 1
        elif changed:
            layer_counts.updated += 1
        touched = touched or bool(changed)
    return touched


def _apply_layer(entry: LayerEntry, schedule: Schedule, layer: Layer | None, now, by):
    values = entry.values
    if layer is None:
        saved = services.layer_create(
            schedule=schedule, by=by, accept_warnings=True, now=now, **values
        )
        layer = saved.obj
        _reason(layer)
        result: str | bool = "created"
    else:
        diff = {k: v for k, v in values.items() if getattr(layer, k) != v}
        if diff:
            layer = services.layer_update(
                layer=layer, by=by, accept_warnings=True, now=now, **diff
            ).obj
            _reason(layer)
        result = bool(diff)
    current = {
        r.effective_from: r
        for r in LayerRoster.objects.filter(layer=layer).prefetch_related("entries")
    }
    wanted = {v.effective_from for v in entry.rosters}
    # Versions to come that the file no longer lists are dropped; those in force stay.
    loaded = load_layers(now, now + timedelta(seconds=1), layers=Layer.objects.filter(pk=layer.pk))
    plan = plan_of(loaded[0], with_exceptions=False)
    for day, roster in sorted(current.items()):
        if day not in wanted and plan.takes_over_at(day) > now.astimezone(UTC):
            services.roster_delete(roster=roster, by=by, accept_warnings=True, now=now)
            result = result or True
    for version in sorted(entry.rosters, key=lambda v: v.effective_from):
        roster = current.get(version.effective_from)
        members = [m.pk for m in version.members]
        if roster is not None and [e.user_id for e in roster.entries.all()] == members:
            continue
        try:
            saved = services.roster_set(
                layer=layer,
                effective_from=version.effective_from,
                members=version.members,
                by=by,
                accept_warnings=True,
                now=now,
            )
        except RuleError as exc:
            raise _refused(version.label, exc) from None
        _reason(saved.obj)
        result = result or True
    return result


SECTION = PolicySection(
    "schedules",
    export_schedules,
    validate_schedules,
    apply_schedules,
    order=40,
)
