"""The policy file: one readable document (YAML or JSON) holding the whole process.

``export_policy()`` turns the policy rows into a document; ``import_policy(document)``
validates every entry first, then applies the file in one transaction: upsert by natural
key, replace each severity's checklist, delete rows the file no longer lists (refused
while anything still refers to them). A bad file changes nothing and every problem is
reported at once, each naming the entry, e.g.::

    severities[2] (SEV-3).ack_target: "5 minutes" is not a duration (use e.g. 5m, 4h, 2d)

A section the file leaves out is left alone; a section it lists is authoritative.
Later apps add sections (escalation policies, comms templates) with ``register_section``
from their ``AppConfig.ready()``; unknown top-level keys are refused so a typo is never
silently ignored.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import router, transaction
from django.db.models import Model, ProtectedError, RestrictedError
from django.db.models.deletion import Collector

from .errors import RuleError
from .models import ChecklistTemplateItem, FinancialThreshold, IncidentType, Severity

VERSION = 1
CHANGE_REASON = "policy import"

# --- Durations: "90s", "15m", "4h", "2d", "1h30m", "1w"; null means "no target" ---

_DURATION_RE = re.compile(
    r"^(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$"
)
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
DURATION_HINT = "use e.g. 5m, 4h, 2d"
# No incident target is longer; beyond it timedelta and SQLite's integers overflow.
MAX_DURATION = timedelta(days=366)


class DurationTooLong(ValueError):
    pass


def parse_duration(value: str | None) -> timedelta | None:
    """``"1h30m"`` -> ``timedelta(hours=1, minutes=30)``; ``None``/``""`` -> ``None``.

    Raises ``ValueError`` for anything else (numbers included: "300" could mean
    seconds or minutes, so a unit is required)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a duration ({DURATION_HINT})")
    text = value.strip().lower().replace(" ", "")
    if not text:
        return None
    match = _DURATION_RE.match(text)
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"{_show(value)} is not a duration ({DURATION_HINT})")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for unit, n in match.groupdict().items() if n)
    if seconds > MAX_DURATION.total_seconds():
        raise DurationTooLong(f"{_show(value)} is longer than a year, the longest target allowed")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta | None) -> str | None:
    """The inverse of ``parse_duration``. Hours up to three days ("24h", "48h" read as the
    seed documents say them), whole days beyond ("5d", "7d")."""
    if value is None:
        return None
    total = int(value.total_seconds())
    if total < 0 or value != timedelta(seconds=total):
        raise ValueError(f"{value!r} cannot be written as a policy duration")
    if total == 0:
        return "0s"
    parts = []
    if total >= 3 * 86400:
        days, total = divmod(total, 86400)
        parts.append(f"{days}d")
    hours, total = divmod(total, 3600)
    minutes, seconds = divmod(total, 60)
    for amount, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")):
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def _show(value: Any) -> str:
    """A value as it appears in the file, for error messages."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return repr(value)


# --- Errors and results ---


class PolicyError(RuleError):
    """A policy file that cannot be imported; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems), field="policy")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.deleted} deleted"


@dataclass
class ImportSummary:
    """What an import did (or, with ``dry_run``, would do), per section."""

    counts: dict[str, Counts] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated or c.deleted for c in self.counts.values())

    def lines(self) -> list[str]:
        return [f"{name}: {counts}" for name, counts in self.counts.items()]


# --- Section registry ---


@dataclass
class ImportContext:
    """Shared by every section during one import. Validators append to ``problems``
    instead of raising, so one run reports everything; ``plans`` holds each validated
    section so later sections can check references against the file (e.g. severity
    keys named by an escalation policy)."""

    document: dict[str, Any]
    user: Any = None
    problems: list[str] = field(default_factory=list)
    plans: dict[str, Any] = field(default_factory=dict)
    summary: ImportSummary = field(default_factory=ImportSummary)

    def severity_keys(self) -> set[str]:
        """Severity keys as they will be after this import."""
        plan = self.plans.get("severities")
        if plan is not None:
            return {entry.values["key"] for entry in plan.entries}
        return set(Severity.objects.values_list("key", flat=True))

    def mark(self, obj: Model) -> Model:
        """Tag a row about to be saved or deleted so its history row says why and who."""
        obj._change_reason = CHANGE_REASON
        if self.user is not None:
            obj._history_user = self.user
        return obj


@dataclass(frozen=True)
class PolicySection:
    """One top-level list in the policy file.

    ``export()`` returns the list; ``validate(entries, ctx)`` checks the file's list,
    appending problems to ``ctx.problems`` and returning a plan; ``apply(plan, ctx)`` is
    called only if the whole file validated, inside the import's transaction, and
    returns the counts. Sections run in ``order`` (severities first)."""

    name: str
    export: Callable[[], list[dict[str, Any]]]
    validate: Callable[[Any, ImportContext], Any]
    apply: Callable[[Any, ImportContext], Counts]
    order: int = 100


_SECTIONS: dict[str, PolicySection] = {}


def register_section(section: PolicySection) -> None:
    if section.name == "version":
        raise ValueError('"version" is reserved')
    _SECTIONS[section.name] = section


def sections() -> list[PolicySection]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name))


# --- Reading entries: every problem recorded, none raised ---


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
        self.label = f"{label} ({shown})" if isinstance(shown, str) and shown else label
        if not isinstance(data, dict):
            self.ctx.problems.append(f"{label}: expected a mapping of fields, got {_show(data)}")
            data = {}
        self.data = data
        for name in data:
            if name not in self.fields:
                self.problem(str(name), f"unknown field{_suggest(str(name), self.fields)}")

    def problem(self, name: str, message: str) -> None:
        self.ctx.problems.append(f"{self.label}.{name}: {message}")

    def raw(self, name: str, required: bool = False) -> Any:
        """The value as written; ``None`` when absent or null."""
        if name not in self.data or self.data[name] is None:
            if required:
                self.problem(name, "is required")
            return None
        return self.data[name]

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.raw(name, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(name, f"{_show(value)} is not text")
            return ""
        value = value.strip()
        if required and not value:
            self.problem(name, "must not be empty")
        if max_length is not None and len(value) > max_length:
            self.problem(name, f"is {len(value)} characters long (at most {max_length})")
        return value

    def integer(
        self, name: str, *, required: bool = False, minimum: int = 0, maximum: int | None = None
    ) -> int | None:
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(name, f"{_show(value)} is not a whole number")
            return None
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            bound = f"between {minimum}{upper}" if upper else f"at least {minimum}"
            self.problem(name, f"{value} must be {bound}")
            return None
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self.raw(name, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(name, f"{_show(value)} is not true or false")
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
            self.problem(name, f"expected a list, got {_show(value)}")
            return []
        items: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.problem(f"{name}[{i}]", f"{_show(item)} is not a non-empty text")
                continue
            item = item.strip()
            if max_length is not None and len(item) > max_length:
                self.problem(
                    f"{name}[{i}]", f"is {len(item)} characters long (at most {max_length})"
                )
            if unique and item in items:
                self.problem(f"{name}[{i}]", f"{_show(item)} is listed twice")
                continue
            items.append(item)
        return items


def _suggest(word: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    return f' "{word}"{hint} (known: {", ".join(choices)})'


def _entries(ctx: ImportContext, section: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        ctx.problems.append(f"{section}: expected a list of entries, got {_show(value)}")
        return []
    return value


class _Unique:
    """Remembers which entry used a value first, to name both in a duplicate error."""

    def __init__(self) -> None:
        self.seen: dict[Any, str] = {}

    def check(self, reader: EntryReader, name: str, value: Any, shown: str | None = None) -> None:
        if value is None:
            return
        if value in self.seen:
            reader.problem(name, f"{shown or _show(value)} is used twice (also {self.seen[value]})")
        else:
            self.seen[value] = reader.label


def _references(obj: Model, owned: set[type[Model]]) -> str | None:
    """What would stop or suffer from deleting ``obj``, in words; ``None`` if nothing.

    Asks Django's deletion collector, so relations added by later apps (a PROTECT foreign
    key from an escalation policy, a runbook's many-to-many link) count without this
    module knowing them. Rows in ``owned`` (a severity's own checklist) go with it."""
    collector = Collector(using=router.db_for_write(type(obj), instance=obj))
    try:
        collector.collect([obj])
    except ProtectedError as exc:
        found = list(exc.protected_objects)
    except RestrictedError as exc:
        found = list(exc.restricted_objects)
    else:
        found = [o for model, objs in collector.data.items() if model not in owned for o in objs]
        for qs in collector.fast_deletes:
            if qs.model not in owned:
                found.extend(qs[:20])
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


def _changed(obj: Model, values: dict[str, Any]) -> bool:
    return any(getattr(obj, name) != value for name, value in values.items())


def _deletion_problems(
    ctx: ImportContext, section: str, rows: Iterable[Model], owned: set[type[Model]]
) -> list[Model]:
    doomed = []
    for row in rows:
        refs = _references(row, owned)
        if refs:
            ctx.problems.append(
                f"{section}: {row} is not in the file but cannot be removed: "
                f"still referenced by {refs}"
            )
        doomed.append(row)
    return doomed


# --- Severities ---

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


def _max_length(model: type[Model], name: str) -> int:
    return model._meta.get_field(name).max_length


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
class _SeverityEntry:
    values: dict[str, Any]
    checklist: list[str]


@dataclass
class _SeverityPlan:
    entries: list[_SeverityEntry]
    delete: list[Severity]


def validate_severities(value: Any, ctx: ImportContext) -> _SeverityPlan:
    entries = []
    keys, ranks = _Unique(), _Unique()
    raw = _entries(ctx, "severities", value)
    if isinstance(value, list) and not raw:
        ctx.problems.append("severities: at least one severity is required")
    for i, data in enumerate(raw):
        r = EntryReader(ctx, f"severities[{i}]", data, SEVERITY_FIELDS)
        key = r.text("key", required=True, max_length=_max_length(Severity, "key"))
        keys.check(r, "key", key or None)
        rank = r.integer("rank", required=True, minimum=1, maximum=_MAX_RANK)
        ranks.check(r, "rank", rank)
        values: dict[str, Any] = {
            "key": key,
            "rank": rank,
            "name": r.text("name", required=True, max_length=_max_length(Severity, "name")),
            "definition": r.text("definition"),
            "examples": "\n".join(r.text_list("examples")),
            "who_is_paged": r.text(
                "who_is_paged", max_length=_max_length(Severity, "who_is_paged")
            ),
            "page_immediately": r.boolean("page_immediately"),
            "executive_sponsor_required": r.boolean("executive_sponsor_required"),
            "postmortem_required": r.boolean("postmortem_required"),
        }
        colour = r.data.get("colour", Severity._meta.get_field("colour").default)
        if not isinstance(colour, str) or not _COLOUR_RE.match(colour):
            r.problem(
                "colour",
                f'{_show(colour)} is not a colour (use e.g. "#d32f2f"; quote it in YAML, '
                "where # starts a comment)",
            )
        values["colour"] = colour
        for name in DURATION_FIELDS:
            values[name] = r.duration(name)
        checklist = r.text_list(
            "checklist", max_length=_max_length(ChecklistTemplateItem, "text"), unique=True
        )
        entries.append(_SeverityEntry(values=values, checklist=checklist))
    wanted = {e.values["key"] for e in entries}
    removed = Severity.objects.exclude(key__in=wanted).order_by("rank")
    delete = _deletion_problems(ctx, "severities", removed, {Severity, ChecklistTemplateItem})
    return _SeverityPlan(entries=entries, delete=delete)


def apply_severities(plan: _SeverityPlan, ctx: ImportContext) -> Counts:
    counts, items = Counts(), Counts()
    for sev in plan.delete:
        # Its checklist rows cascade; mark them too so their history says why.
        for item in sev.checklist.all():
            ctx.mark(item).delete()
            items.deleted += 1
        ctx.mark(sev).delete()
        counts.deleted += 1

    existing = {s.key: s for s in Severity.objects.select_for_update()}
    changed = {
        e.values["key"]
        for e in plan.entries
        if e.values["key"] in existing and _changed(existing[e.values["key"]], e.values)
    }
    # Ranks are unique, so a swap (SEV-2 <-> SEV-3) would collide half way; park the
    # moving rows on free ranks first. ``update()`` keeps the parking out of history.
    moving = [
        existing[e.values["key"]]
        for e in plan.entries
        if e.values["key"] in existing and existing[e.values["key"]].rank != e.values["rank"]
    ]
    taken = {s.rank for s in existing.values()} | {e.values["rank"] for e in plan.entries}
    free = (n for n in range(_MAX_RANK, 0, -1) if n not in taken)
    for sev in moving:
        Severity.objects.filter(pk=sev.pk).update(rank=next(free))

    for entry in plan.entries:
        sev = existing.get(entry.values["key"])
        if sev is None:
            sev = ctx.mark(Severity(**entry.values))
            sev.save()
            counts.created += 1
        elif sev.key in changed:
            for name, value in entry.values.items():
                setattr(sev, name, value)
            ctx.mark(sev).save()
            counts.updated += 1
        _apply_checklist(sev, entry.checklist, items, ctx)
    ctx.summary.counts["checklist items"] = items
    return counts


def _apply_checklist(sev: Severity, texts: list[str], counts: Counts, ctx: ImportContext) -> None:
    """Make the severity's checklist the file's list, keeping rows whose text is unchanged
    (incidents' copies point at them)."""
    current = {item.text: item for item in ChecklistTemplateItem.objects.filter(severity=sev)}
    for text, item in current.items():
        if text not in texts:
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


# --- Incident types ---

TYPE_FIELDS = (
    "key",
    "name",
    "description",
    "regulatory_notification_hours",
    "security_checkpoints",
)


def export_incident_types() -> list[dict[str, Any]]:
    return [
        {
            "key": t.key,
            "name": t.name,
            "description": t.description,
            "regulatory_notification_hours": t.regulatory_notification_hours,
            "security_checkpoints": t.security_checkpoints,
        }
        for t in IncidentType.objects.order_by("key")
    ]


@dataclass
class _RowsPlan:
    entries: list[dict[str, Any]]
    delete: list[Model]


def validate_incident_types(value: Any, ctx: ImportContext) -> _RowsPlan:
    entries = []
    keys = _Unique()
    for i, data in enumerate(_entries(ctx, "incident_types", value)):
        r = EntryReader(ctx, f"incident_types[{i}]", data, TYPE_FIELDS)
        key = r.text("key", required=True, max_length=_max_length(IncidentType, "key"))
        if key:
            try:
                validate_slug(key)
            except ValidationError:
                r.problem("key", f"{_show(key)} must be letters, digits, - and _ only")
        keys.check(r, "key", key or None)
        entries.append(
            {
                "key": key,
                "name": r.text("name", required=True, max_length=_max_length(IncidentType, "name")),
                "description": r.text("description"),
                "regulatory_notification_hours": r.integer("regulatory_notification_hours"),
                "security_checkpoints": r.boolean("security_checkpoints"),
            }
        )
    removed = IncidentType.objects.exclude(key__in=[e["key"] for e in entries]).order_by("key")
    return _RowsPlan(entries, _deletion_problems(ctx, "incident_types", removed, {IncidentType}))


def apply_incident_types(plan: _RowsPlan, ctx: ImportContext) -> Counts:
    counts = Counts()
    for row in plan.delete:
        ctx.mark(row).delete()
        counts.deleted += 1
    existing = {t.key: t for t in IncidentType.objects.select_for_update()}
    for values in plan.entries:
        row = existing.get(values["key"])
        if row is None:
            ctx.mark(IncidentType(**values)).save()
            counts.created += 1
        elif _changed(row, values):
            for name, value in values.items():
                setattr(row, name, value)
            ctx.mark(row).save()
            counts.updated += 1
    return counts


# --- Financial thresholds ---

THRESHOLD_FIELDS = ("amount", "audience", "notify_emails", "notify_users")
_CENT = Decimal("0.01")


def _export_amount(amount: Decimal) -> int | str:
    return int(amount) if amount == amount.to_integral_value() else str(amount)


def export_financial_thresholds() -> list[dict[str, Any]]:
    username = get_user_model().USERNAME_FIELD
    return [
        {
            "amount": _export_amount(t.amount),
            "audience": t.audience,
            "notify_emails": t.email_list,
            "notify_users": sorted(getattr(u, username) for u in t.notify_users.all()),
        }
        for t in FinancialThreshold.objects.prefetch_related("notify_users").order_by("amount")
    ]


def _read_amount(r: EntryReader) -> Decimal | None:
    value = r.raw("amount", True)
    if value is None:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        amount = Decimal(str(value).replace(",", "").strip())
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        r.problem("amount", f"{_show(value)} is not an amount (use e.g. 10000 or 2500.50)")
        return None
    if amount < 0 or amount != amount.quantize(_CENT) or amount >= Decimal(10) ** 12:
        r.problem("amount", f"{_show(value)} must be at least 0, with at most 2 decimals")
        return None
    return amount.quantize(_CENT)


def validate_financial_thresholds(value: Any, ctx: ImportContext) -> _RowsPlan:
    User = get_user_model()
    username_field = User.USERNAME_FIELD
    entries = []
    amounts = _Unique()
    readers = []
    for i, data in enumerate(_entries(ctx, "financial_thresholds", value)):
        r = EntryReader(ctx, f"financial_thresholds[{i}]", data, THRESHOLD_FIELDS, key="amount")
        amount = _read_amount(r)
        amounts.check(r, "amount", amount, shown=str(_export_amount(amount or Decimal(0))))
        emails = r.text_list("notify_emails", unique=True)
        for j, email in enumerate(emails):
            try:
                validate_email(email)
            except ValidationError:
                r.problem(f"notify_emails[{j}]", f"{_show(email)} is not an email address")
        names = r.text_list("notify_users", unique=True)
        entries.append(
            {
                "amount": amount,
                "audience": r.text(
                    "audience",
                    required=True,
                    max_length=_max_length(FinancialThreshold, "audience"),
                ),
                "notify_emails": "\n".join(emails),
                "notify_users": names,
            }
        )
        readers.append(r)

    wanted_names = {n for e in entries for n in e["notify_users"]}
    users = {
        getattr(u, username_field): u
        for u in User.objects.filter(**{f"{username_field}__in": wanted_names})
    }
    for r, entry in zip(readers, entries, strict=True):
        for j, name in enumerate(entry["notify_users"]):
            if name not in users:
                r.problem(f"notify_users[{j}]", f"unknown user {_show(name)}")
        entry["notify_users"] = [users[n] for n in entry["notify_users"] if n in users]

    keep = [e["amount"] for e in entries if e["amount"] is not None]
    removed = FinancialThreshold.objects.exclude(amount__in=keep).order_by("amount")
    owned = {FinancialThreshold, FinancialThreshold.notify_users.through}
    return _RowsPlan(entries, _deletion_problems(ctx, "financial_thresholds", removed, owned))


def apply_financial_thresholds(plan: _RowsPlan, ctx: ImportContext) -> Counts:
    counts = Counts()
    for row in plan.delete:
        ctx.mark(row).delete()
        counts.deleted += 1
    existing = {
        t.amount: t
        for t in FinancialThreshold.objects.select_for_update().prefetch_related("notify_users")
    }
    for entry in plan.entries:
        values = {k: v for k, v in entry.items() if k != "notify_users"}
        wanted_users = {u.pk for u in entry["notify_users"]}
        row = existing.get(entry["amount"])
        if row is None:
            row = ctx.mark(FinancialThreshold(**values))
            row.save()
            row.notify_users.set(entry["notify_users"])
            counts.created += 1
            continue
        fields_changed = _changed(row, values)
        users_changed = {u.pk for u in row.notify_users.all()} != wanted_users
        if fields_changed:
            for name, value in values.items():
                setattr(row, name, value)
            ctx.mark(row).save()
        if users_changed:
            ctx.mark(row).notify_users.set(entry["notify_users"])
        if fields_changed or users_changed:
            counts.updated += 1
    return counts


register_section(
    PolicySection("severities", export_severities, validate_severities, apply_severities, 10)
)
register_section(
    PolicySection(
        "incident_types", export_incident_types, validate_incident_types, apply_incident_types, 20
    )
)
register_section(
    PolicySection(
        "financial_thresholds",
        export_financial_thresholds,
        validate_financial_thresholds,
        apply_financial_thresholds,
        30,
    )
)


# --- Export and import ---


def export_policy() -> dict[str, Any]:
    """The whole policy as one document, sections in their registry order."""
    document: dict[str, Any] = {"version": VERSION}
    for section in sections():
        document[section.name] = section.export()
    return document


def import_policy(document: Any, *, dry_run: bool = False, user: Any = None) -> ImportSummary:
    """Validate the whole document, then apply it in one transaction.

    1. Check the top level: a mapping, ``version: 1``, only known sections.
    2. Validate each present section in order, collecting every problem (types,
       required fields, duplicates, durations, users, rows still referenced).
    3. Any problem: raise ``PolicyError`` listing them all; nothing was written.
    4. Apply each section (deletions first, then upserts); history rows carry the
       reason "policy import". ``dry_run`` rolls the transaction back at the end, so
       its counts are exactly what a real import would do.
    """
    ctx = ImportContext(document=document if isinstance(document, dict) else {}, user=user)
    ctx.summary.dry_run = dry_run
    if not isinstance(document, dict):
        raise PolicyError([f"the policy file must be a mapping of sections, got {_show(document)}"])
    known = ["version", *(s.name for s in sections())]
    for key in document:
        if key not in known:
            ctx.problems.append(f"unknown section{_suggest(str(key), known)}")
    version = document.get("version")
    if version != VERSION:
        ctx.problems.append(f"version: {_show(version)} is not supported (this install reads 1)")

    with transaction.atomic():
        present = [s for s in sections() if s.name in document]
        for section in present:
            ctx.plans[section.name] = section.validate(document[section.name], ctx)
        if ctx.problems:
            raise PolicyError(ctx.problems)
        for section in present:
            # Placeholder first, so sub-counts a section adds (checklist items) follow it.
            ctx.summary.counts[section.name] = Counts()
            ctx.summary.counts[section.name] = section.apply(ctx.plans[section.name], ctx)
        if dry_run:
            transaction.set_rollback(True)
    return ctx.summary


# --- Files: format chosen by extension ---

FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def format_for(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise PolicyError([f"{path}: unknown file type {suffix!r} (use .yaml, .yml or .json)"])
    return FORMATS[suffix]


class _Dumper(yaml.SafeDumper):
    """Block style, list items indented under their key, multi-line text as ``|``."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)

YAML_HEADER = (
    "# Incident response policy. Durations: 90s, 15m, 4h, 2d, 1h30m; null means none.\n"
    "# Apply with: python manage.py policy import FILE [--dry-run]\n"
)


def dumps_policy(document: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)
    return YAML_HEADER + body


# A policy has hundreds of values; YAML aliases can make a few bytes expand to billions,
# which validation would then walk and quote. Refuse anything past this many.
MAX_VALUES = 1_000_000


def loads_policy(text: str, fmt: str = "yaml", *, name: str = "policy") -> Any:
    try:
        document = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            [f"{name}: not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"]
        ) from exc
    except yaml.YAMLError as exc:
        raise PolicyError([f"{name}: not valid YAML: {exc}"]) from exc
    except RecursionError:
        raise PolicyError([f"{name}: nested too deeply"]) from None
    if _exceeds_values(document, MAX_VALUES):
        raise PolicyError([f"{name}: expands to too many values (YAML aliases?)"])
    return document


def _exceeds_values(document: Any, limit: int) -> bool:
    """Whether the document holds more than ``limit`` values, counting every alias again."""
    stack, seen = [document], 0
    while stack:
        value = stack.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def load_policy_file(path: str | Path) -> Any:
    fmt = format_for(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([f"{path}: cannot read: {exc.strerror}"]) from exc
    return loads_policy(text, fmt, name=str(path))


def dump_policy_file(document: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(dumps_policy(document, format_for(path)), encoding="utf-8")
