"""The ``severities`` section: levels with their targets, each with its checklist."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..models import ChecklistTemplateItem, Severity
from .durations import format_duration
from .entries import EntryReader, Unique, changed, deletion_problems, entries, max_length
from .problems import show
from .registry import Counts, ImportContext, PolicySection
from .remap import movable_relations, move_references, remap_problems

SEVERITY_FIELDS = (
    "key",
    "rank",
    "name",
    "colour",
    "definition",
    "examples",
    "ack_target",
    "resolve_target",
    "internal_update_every",
    "customer_update_every",
    "page_immediately",
    "who_is_paged",
    "executive_sponsor_required",
    "postmortem_required",
    "postmortem_due",
    "checklist",
)
DURATION_FIELDS = (
    "ack_target",
    "resolve_target",
    "internal_update_every",
    "customer_update_every",
    "postmortem_due",
)
_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_MAX_RANK = 32767  # PositiveSmallIntegerField
# Every line is a row with its history row; the seeds' checklists hold a dozen at most.
MAX_CHECKLIST_LINES = 2000


def export_severities() -> list[dict[str, Any]]:
    out = []
    for sev in Severity.objects.prefetch_related("checklist").order_by("rank"):
        entry: dict[str, Any] = {
            "key": sev.key,
            "rank": sev.rank,
            "name": sev.name,
            "colour": sev.colour,
            "definition": sev.definition,
            "examples": [line for line in sev.examples.splitlines() if line.strip()],
        }
        for name in DURATION_FIELDS[:4]:
            entry[name] = format_duration(getattr(sev, name))
        entry.update(
            page_immediately=sev.page_immediately,
            who_is_paged=sev.who_is_paged,
            executive_sponsor_required=sev.executive_sponsor_required,
            postmortem_required=sev.postmortem_required,
            postmortem_due=format_duration(sev.postmortem_due),
            checklist=[item.text for item in sorted(sev.checklist.all(), key=_item_order)],
        )
        out.append(entry)
    return out


def _item_order(item: ChecklistTemplateItem) -> tuple[int, int]:
    return (item.position, item.pk)


@dataclass
class SeverityEntry:
    values: dict[str, Any]
    checklist: list[str]


@dataclass
class SeverityPlan:
    entries: list[SeverityEntry]
    delete: list[Severity]


def validate_severities(value: Any, ctx: ImportContext) -> SeverityPlan:
    found = []
    keys, ranks = Unique(), Unique()
    raw = entries(ctx, "severities", value)
    if isinstance(value, list) and not raw:
        ctx.problems.append("severities: at least one severity is required")
    for i, data in enumerate(raw):
        r = EntryReader(ctx, f"severities[{i}]", data, SEVERITY_FIELDS)
        key = r.text("key", required=True, max_length=max_length(Severity, "key"))
        keys.check(r, "key", key or None)
        rank = r.integer("rank", required=True, minimum=1, maximum=_MAX_RANK)
        ranks.check(r, "rank", rank)
        values: dict[str, Any] = {
            "key": key,
            "rank": rank,
            "name": r.text("name", required=True, max_length=max_length(Severity, "name")),
            "definition": r.text("definition"),
            "examples": "\n".join(r.text_list("examples")),
            "who_is_paged": r.text("who_is_paged", max_length=max_length(Severity, "who_is_paged")),
            "page_immediately": r.boolean("page_immediately"),
            "executive_sponsor_required": r.boolean("executive_sponsor_required"),
            "postmortem_required": r.boolean("postmortem_required"),
        }
        colour = r.data.get("colour", Severity._meta.get_field("colour").default)
        if not isinstance(colour, str) or not _COLOUR_RE.match(colour):
            r.problem(
                "colour",
                f'{show(colour)} is not a colour (use e.g. "#d32f2f"; quote it in YAML, '
                "where # starts a comment)",
            )
        values["colour"] = colour
        for name in DURATION_FIELDS:
            values[name] = r.duration(name)
        checklist = r.text_list(
            "checklist", max_length=max_length(ChecklistTemplateItem, "text"), unique=True
        )
        found.append(SeverityEntry(values=values, checklist=checklist))

    lines = sum(len(e.checklist) for e in found)
    if lines > MAX_CHECKLIST_LINES:
        ctx.problems.append(
            f"severities: the checklists hold {lines:,} lines in all "
            f"(at most {MAX_CHECKLIST_LINES:,})"
        )
    wanted = {e.values["key"] for e in found}
    removed = list(Severity.objects.exclude(key__in=wanted).order_by("rank"))
    remap_problems(ctx, wanted, removed)
    mapped = [s for s in removed if s.key in ctx.severity_map]
    # A mapped level's incidents (and anything else holding it by foreign key) move to
    # its new level first, so only what cannot move would stop its removal.
    moving = {rel.related_model for rel in movable_relations()}
    owned = {Severity, ChecklistTemplateItem} | ctx.replaced()
    delete = []
    for sev in removed:
        if sev not in mapped:
            hint = f"; map {sev.key} to a level of the file to move them there"
            delete += deletion_problems(ctx, "severities", [sev], owned, hint)
    delete += deletion_problems(ctx, "severities", mapped, owned | moving)
    return SeverityPlan(entries=found, delete=delete)


def apply_severities(plan: SeverityPlan, ctx: ImportContext) -> Counts:
    """Upsert the file's levels, move what the severity map names, then remove the levels
    the file no longer lists.

    Ranks are unique, so a swap (SEV-2 <-> SEV-3), or a new P1 taking the rank of a SEV-2
    that is still there until its incidents have moved, would collide half way: the rows
    in the way are parked on free ranks first. ``update()`` keeps the parking out of
    history (each row's real change is recorded by its own save or delete)."""
    counts, items = Counts(), Counts()
    existing = {s.key: s for s in Severity.objects.select_for_update()}
    doomed = {s.pk for s in plan.delete}
    wanted_rank = {e.values["key"]: e.values["rank"] for e in plan.entries}
    in_the_way = [
        sev
        for sev in existing.values()
        if sev.pk in doomed or (sev.key in wanted_rank and sev.rank != wanted_rank[sev.key])
    ]
    taken = {s.rank for s in existing.values()} | set(wanted_rank.values())
    free = (n for n in range(_MAX_RANK, 0, -1) if n not in taken)
    for sev in in_the_way:
        sev.rank = next(free)
        Severity.objects.filter(pk=sev.pk).update(rank=sev.rank)

    by_key: dict[str, Severity] = {}
    for entry in plan.entries:
        sev = existing.get(entry.values["key"])
        if sev is None:
            sev = ctx.mark(Severity(**entry.values))
            sev.save()
            counts.created += 1
        elif changed(sev, entry.values):
            for name, value in entry.values.items():
                setattr(sev, name, value)
            ctx.mark(sev).save()
            counts.updated += 1
        _apply_checklist(sev, entry.checklist, items, ctx)
        by_key[sev.key] = sev

    for old in plan.delete:
        new_key = ctx.severity_map.get(old.key)
        if new_key is not None:
            ctx.summary.moved.extend(move_references(old=old, new=by_key[new_key], ctx=ctx))
        # Its checklist rows cascade; mark them too so their history says why.
        for item in old.checklist.all():
            ctx.mark(item).delete()
            items.deleted += 1
        ctx.mark(old).delete()
        counts.deleted += 1
    ctx.summary.counts["checklist items"] = items
    return counts


def _apply_checklist(sev: Severity, texts: list[str], counts: Counts, ctx: ImportContext) -> None:
    """Make the severity's checklist the file's list, keeping rows whose text is unchanged
    (incidents' copies point at them)."""
    current = {item.text: item for item in ChecklistTemplateItem.objects.filter(severity=sev)}
    keep = set(texts)
    for text, item in current.items():
        if text not in keep:
            ctx.mark(item).delete()
            counts.deleted += 1
    for position, text in enumerate(texts, start=1):
        item = current.get(text)
        if item is None:
            ctx.mark(ChecklistTemplateItem(severity=sev, position=position, text=text)).save()
            counts.created += 1
        elif item.position != position:
            item.position = position
            ctx.mark(item).save()
            counts.updated += 1


SECTION = PolicySection(
    "severities", export_severities, validate_severities, apply_severities, order=10
)
