"""Reading a section's entries, and what every section needs: typed accessors that record
problems instead of raising, duplicate checks, and what stops a row from being removed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import router
from django.db.models import Model, ProtectedError, RestrictedError
from django.db.models.deletion import Collector

from .durations import parse_duration
from .problems import bad_characters, show
from .registry import Counts, ImportContext

# An entry is named by its natural key in problems; a longer key is cut to this.
_MAX_LABEL_KEY = 40
# No policy needs more entries in a section, or items in one list (a checklist, the
# people to notify); the bounds keep a megabyte of tiny entries from taking minutes.
MAX_ENTRIES = 1000
MAX_LIST_ITEMS = 200


class EntryReader:
    """Reads one mapping of a section with typed accessors. Problems go to the context,
    labelled ``<section>[<index>] (<key>).<field>``; accessors return a usable default so
    validation carries on and reports the rest of the file too."""

    def __init__(
        self,
        ctx: ImportContext,
        label: str,
        data: Any,
        fields: Iterable[str],
        *,
        key: str | None = "key",
    ):
        self.ctx = ctx
        self.fields = tuple(fields)
        # Name the entry by its natural key as written, when it has a usable one.
        shown = data.get(key) if isinstance(data, dict) and key else None
        if isinstance(shown, int | float | str) and not isinstance(shown, bool):
            shown = str(shown).strip()
            if len(shown) > _MAX_LABEL_KEY:
                shown = shown[: _MAX_LABEL_KEY - 1] + "…"
        self.label = f"{label} ({shown})" if isinstance(shown, str) and shown else label
        if not isinstance(data, dict):
            self.ctx.problems.append(f"{label}: expected a mapping of fields, got {show(data)}")
            data = {}
        self.data = data
        for name in data:
            if name not in self.fields:
                self.problem(str(name), f"unknown field{suggest(str(name), self.fields)}")

    def problem(self, name: str, message: str) -> None:
        self.ctx.problems.append(f"{self.label}.{name}: {message}")

    def raw(self, name: str, required: bool = False) -> Any:
        """The value as written; ``None`` when absent or null."""
        if name not in self.data or self.data[name] is None:
            if required:
                self.problem(name, "is required")
            return None
        return self.data[name]

    def _storable(self, name: str, value: str) -> bool:
        reason = bad_characters(value)
        if reason:
            self.problem(name, reason)
        return reason is None

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.raw(name, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(name, f"{show(value)} is not text")
            return ""
        if not self._storable(name, value):
            return ""
        value = value.strip()
        if required and not value:
            self.problem(name, "must not be empty")
        if max_length is not None and len(value) > max_length:
            self.problem(name, f"is {len(value):,} characters long (at most {max_length})")
        return value

    def integer(
        self, name: str, *, required: bool = False, minimum: int = 0, maximum: int | None = None
    ) -> int | None:
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(name, f"{show(value)} is not a whole number")
            return None
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            bound = f"between {minimum}{upper}" if upper else f"at least {minimum}"
            self.problem(name, f"{show(value)} must be {bound}")
            return None
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self.raw(name, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(name, f"{show(value)} is not true or false")
            return default
        return value

    def duration(self, name: str) -> timedelta | None:
        value = self.data.get(name)
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(name, str(exc))
            return None

    def text_list(
        self, name: str, *, max_length: int | None = None, unique: bool = False
    ) -> list[str]:
        value = self.raw(name, False)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(name, f"expected a list, got {show(value)}")
            return []
        if len(value) > MAX_LIST_ITEMS:
            self.problem(name, f"lists {len(value):,} items (at most {MAX_LIST_ITEMS:,})")
            return []
        items: list[str] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.problem(f"{name}[{i}]", f"{show(item)} is not a non-empty text")
                continue
            if not self._storable(f"{name}[{i}]", item):
                continue
            item = item.strip()
            if max_length is not None and len(item) > max_length:
                self.problem(
                    f"{name}[{i}]", f"is {len(item):,} characters long (at most {max_length})"
                )
            if unique and item in seen:
                self.problem(f"{name}[{i}]", f"{show(item)} is listed twice")
                continue
            seen.add(item)
            items.append(item)
        return items


@dataclass
class RowsPlan:
    """A section of plain rows: the file's entries, and the rows it no longer lists."""

    entries: list[dict[str, Any]]
    delete: list[Model]


def suggest(word: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    # difflib is quadratic in the word's length; a long "word" is no typo of a field name.
    close = difflib.get_close_matches(word, choices, n=1) if len(word) <= 64 else []
    hint = f'; did you mean "{close[0]}"?' if close else ""
    return f" {show(word)}{hint} (known: {', '.join(choices)})"


def entries(ctx: ImportContext, section: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        ctx.problems.append(f"{section}: expected a list of entries, got {show(value)}")
        return []
    if len(value) > MAX_ENTRIES:
        ctx.problems.append(f"{section}: {len(value):,} entries (at most {MAX_ENTRIES:,})")
        return []
    return value


def max_length(model: type[Model], name: str) -> int:
    return model._meta.get_field(name).max_length


class Unique:
    """Remembers which entry used a value first, to name both in a duplicate error."""

    def __init__(self) -> None:
        self.seen: dict[Any, str] = {}

    def check(self, reader: EntryReader, name: str, value: Any, shown: str | None = None) -> None:
        if value is None:
            return
        if value in self.seen:
            reader.problem(name, f"{shown or show(value)} is used twice (also {self.seen[value]})")
        else:
            self.seen[value] = reader.label


def changed(obj: Model, values: dict[str, Any]) -> bool:
    return any(getattr(obj, name) != value for name, value in values.items())


def upsert(
    ctx: ImportContext, counts: Counts, row: Model | None, model: type[Model], values: dict
) -> Model:
    """Create a row of ``model`` from ``values``, or bring ``row`` in line with them; saved
    with the import's history mark and counted, and left alone when nothing differs."""
    if row is None:
        row = ctx.mark(model(**values))
        row.save()
        counts.created += 1
    elif changed(row, values):
        for name, value in values.items():
            setattr(row, name, value)
        ctx.mark(row).save()
        counts.updated += 1
    return row


def apply_rows(plan: RowsPlan, ctx: ImportContext, model: type[Model], key: str) -> Counts:
    """A section of plain rows, named by their ``key`` field: delete the rows the file no
    longer lists, then create or update each entry."""
    counts = Counts()
    for row in plan.delete:
        ctx.mark(row).delete()
        counts.deleted += 1
    existing = {getattr(row, key): row for row in model.objects.select_for_update()}
    for values in plan.entries:
        upsert(ctx, counts, existing.get(values[key]), model, values)
    return counts


def references(obj: Model, owned: set[type[Model]]) -> str | None:
    """What would stop or suffer from deleting ``obj``, in words; ``None`` if nothing.

    Asks Django's deletion collector, so relations added by later apps (a PROTECT foreign
    key from an escalation policy, a runbook's many-to-many link) count without this
    module knowing them. Rows of the models in ``owned`` (a severity's own checklist, rows
    a severity map moves away first) are left out."""
    collector = Collector(using=router.db_for_write(type(obj), instance=obj))
    try:
        collector.collect([obj])
    except ProtectedError as exc:
        found = list(exc.protected_objects)
    except RestrictedError as exc:
        found = list(exc.restricted_objects)
    else:
        found = [o for model, objs in collector.data.items() for o in objs]
        for qs in collector.fast_deletes:
            if qs.model not in owned:
                found.extend(qs[:20])
    found = [o for o in found if type(o) not in owned]
    if not found:
        return None
    by_model: dict[str, list[str]] = {}
    for o in found:
        o = _link_owner(o, type(obj))
        by_model.setdefault(str(o._meta.verbose_name), []).append(str(o))
    parts = []
    for name, objs in by_model.items():
        shown = ", ".join(objs[:3]) + (", ..." if len(objs) > 3 else "")
        parts.append(f"{len(objs)} {name}{'' if len(objs) == 1 else 's'} ({shown})")
    return "; ".join(parts)


def _link_owner(row: Model, target: type[Model]) -> Model:
    """A many-to-many link row (Runbook_incident_types) is named by the object on its other
    side (the runbook), which is what a person recognises."""
    if not row._meta.auto_created:
        return row
    for link in row._meta.concrete_fields:
        if link.is_relation and link.related_model is not target:
            return getattr(row, link.name)
    return row


def deletion_problems(
    ctx: ImportContext,
    section: str,
    rows: Iterable[Model],
    owned: set[type[Model]],
    hint: str = "",
) -> list[Model]:
    """The rows the file no longer lists, each still referenced one recorded as a problem
    (``hint`` says what to do about it)."""
    doomed = []
    for row in rows:
        refs = references(row, owned)
        if refs:
            ctx.problems.append(
                f"{section}: {row} is not in the file but cannot be removed: "
                f"still referenced by {refs}{hint}"
            )
        doomed.append(row)
    return doomed
