"""The section registry: what a policy file may hold, and what one import shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model

from ..models import Severity
from .problems import Problems

VERSION = 1
CHANGE_REASON = "policy import"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.deleted} deleted"


@dataclass
class ImportSummary:
    """What an import did (or, with ``dry_run``, would do), per section; ``moved`` lists
    the rows a severity map moved, as ``"SEV-1 -> P0: 3 incidents"``."""

    counts: dict[str, Counts] = field(default_factory=dict)
    dry_run: bool = False
    moved: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.moved) or any(
            c.created or c.updated or c.deleted for c in self.counts.values()
        )

    def lines(self) -> list[str]:
        return [f"{name}: {counts}" for name, counts in self.counts.items()] + [
            f"moved {line}" for line in self.moved
        ]


@dataclass
class ImportContext:
    """Shared by every section during one import. Validators append to ``problems``
    instead of raising, so one run reports everything; ``plans`` holds each validated
    section so later sections can check references against the file (e.g. severity
    keys named by an escalation policy). ``severity_map`` is the ``--map`` of a scheme
    switch: old severity key -> new key."""

    document: dict[str, Any]
    user: Any = None
    severity_map: dict[str, str] = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)
    plans: dict[str, Any] = field(default_factory=dict)
    summary: ImportSummary = field(default_factory=ImportSummary)

    def severity_keys(self) -> set[str]:
        """Severity keys as they will be after this import."""
        plan = self.plans.get("severities")
        if plan is not None:
            return {entry.values["key"] for entry in plan.entries}
        return set(Severity.objects.values_list("key", flat=True))

    def replaced(self) -> set:
        """Models that sections listed in this file rewrite (see ``PolicySection.replaces``)."""
        return {model for s in sections() if s.name in self.document for model in s.replaces}

    def mark(self, obj: Model, reason: str = CHANGE_REASON) -> Model:
        """Tag a row about to be saved or deleted so its history row says why and who."""
        obj._change_reason = reason
        if self.user is not None:
            obj._history_user = self.user
        return obj


@dataclass(frozen=True)
class PolicySection:
    """One top-level list in the policy file.

    ``export()`` returns the list; ``validate(entries, ctx)`` checks the file's list,
    appending problems to ``ctx.problems`` and returning a plan; ``apply(plan, ctx)`` is
    called only if the whole file validated, inside the import's transaction, and
    returns the counts. Sections run in ``order`` (severities first). ``replaces``: models
    the section rewrites wholesale when the file lists it, so rows of them that still
    point at a severity level do not stop that level from being removed."""

    name: str
    export: Callable[[], list[dict[str, Any]]]
    validate: Callable[[Any, ImportContext], Any]
    apply: Callable[[Any, ImportContext], Counts]
    order: int = 100
    replaces: tuple = ()


_SECTIONS: dict[str, PolicySection] = {}


def register_section(section: PolicySection) -> None:
    if section.name == "version":
        raise ValueError('"version" is reserved')
    _SECTIONS[section.name] = section


def sections() -> list[PolicySection]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name))
