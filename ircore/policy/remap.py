"""Switching severity scheme on an install with history (``--map SEV-1=P0,SEV-2=P1``).

A level the file removes may be *mapped* to a level the file has: in the import's own
transaction, every row that holds the old level by a foreign key and outlives it (its
``on_delete`` is not CASCADE: incidents, and whatever later apps add) moves to the new
level, each moved row recorded in its history with the reason ``policy import: SEV-1 ->
P0``; then the old level is removed. Rows that belong to the level (CASCADE: its
checklist) go with it. Incidents' own checklist items keep their text; the link to the
template line they were copied from is cleared when that line goes, as on any removal.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import CASCADE, ForeignObjectRel, Model
from simple_history.utils import bulk_update_with_history

from ..models import Severity
from .problems import PolicyError, Problems, show
from .registry import CHANGE_REASON, ImportContext

# Rows moved per UPDATE (and per batch of history rows).
_BATCH = 500


def parse_severity_map(text: str | None) -> dict[str, str]:
    """``"SEV-1=P0, SEV-2=P1"`` -> ``{"SEV-1": "P0", "SEV-2": "P1"}``; empty: no map.

    Raises ``PolicyError`` naming each pair that is not ``OLD=NEW`` or maps a level twice."""
    problems = Problems()
    mapping: dict[str, str] = {}
    for i, pair in enumerate(p.strip() for p in (text or "").split(",")):
        if not pair:
            continue
        old, sep, new = (part.strip() for part in pair.partition("="))
        if not (sep and old and new):
            problems.append(f"map[{i}]: {show(pair)} is not OLD=NEW (e.g. SEV-1=P0)")
        elif old in mapping:
            problems.append(f"map[{i}] ({old}): {old} is mapped twice")
        else:
            mapping[old] = new
    if problems:
        raise PolicyError(problems)
    return mapping


def format_severity_map(mapping: dict[str, str]) -> str:
    return ",".join(f"{old}={new}" for old, new in mapping.items())


def movable_relations() -> list[ForeignObjectRel]:
    """Foreign keys to ``Severity`` whose rows outlive the level they hold."""
    return [
        rel
        for rel in Severity._meta.related_objects
        # A reverse foreign key reads "one to many" from this side.
        if rel.one_to_many and rel.on_delete is not CASCADE
    ]


def remap_problems(ctx: ImportContext, wanted: set[str], removed: list[Severity]) -> None:
    """Check the map against the install (left side) and the file (right side)."""
    removed_keys = {s.key for s in removed}
    current = list(Severity.objects.order_by("rank").values_list("key", flat=True))
    for old, new in ctx.severity_map.items():
        label = f"map ({old}={new})"
        if old not in current:
            ctx.problems.append(
                f"{label}: {old} is not a severity of this install (it has {', '.join(current)})"
            )
        elif old not in removed_keys:
            ctx.problems.append(
                f"{label}: {old} stays in the file; only a level the file removes can be mapped"
            )
        if new not in wanted:
            ctx.problems.append(
                f"{label}: {new} is not a severity in the file "
                f"(it has {', '.join(sorted(wanted)) or 'none'})"
            )


def move_references(*, old: Severity, new: Severity, ctx: ImportContext) -> list[str]:
    """Move every row holding ``old`` (see ``movable_relations``) to ``new``; returns what
    moved, e.g. ``["SEV-1 -> P0: 3 incidents"]``."""
    reason = f"{CHANGE_REASON}: {old.key} -> {new.key}"
    moved = []
    for rel in movable_relations():
        model, name = rel.related_model, rel.field.name
        # The keys first: SQLite gives no stable scan of a table being updated.
        pks = list(model._default_manager.filter(**{name: old}).values_list("pk", flat=True))
        count = 0
        for batch in _batches(model, pks, **{name: old}):
            for row in batch:
                setattr(row, name, new)
            count += len(batch)
            if hasattr(model._meta, "simple_history_manager_attribute"):
                bulk_update_with_history(
                    batch,
                    model,
                    [name],
                    default_user=ctx.user,
                    default_change_reason=reason,
                )
            else:
                model._default_manager.filter(pk__in=[r.pk for r in batch]).update(**{name: new})
        if count:
            noun = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
            moved.append(f"{old.key} -> {new.key}: {count} {noun}")
    return moved


def _batches(model: type[Model], pks: list, **still: object) -> Iterator[list[Model]]:
    """The rows, locked, ``_BATCH`` at a time; a row that no longer matches ``still``
    (moved meanwhile by someone else) is left alone."""
    rows = model._default_manager.select_for_update().filter(**still)
    for start in range(0, len(pks), _BATCH):
        yield list(rows.filter(pk__in=pks[start : start + _BATCH]))
