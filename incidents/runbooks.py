"""Runbooks kept as Markdown files with a small YAML front matter, loaded into ``Runbook`` rows.

A runbook file::

    ---
    title: Payment processor down
    slug: payment-processor-down
    services: [payments-api, settlement]      # optional: service slugs
    incident_types: [integration-failure]     # optional: incident type keys
    ---
    Markdown body ...

``load_runbooks`` reads every ``*.md`` file of a directory and:

1. parses and checks all of them first; one bad file (no front matter, a missing or unknown
   field, a duplicate slug, an empty body) raises ``RunbookFileError`` naming the file and
   the field, and nothing is changed;
2. upserts each runbook by slug in one transaction: the file is the source, so its title,
   body and links replace what the row had;
3. links the services and incident types that exist and skips unknown ones with a warning
   in the summary (a runbook may name a service the catalog has not got yet; loading again
   after it is added links it).

Rows are saved only when something differs, so loading the same files twice changes nothing
and writes no history.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction

from ircore.errors import RuleError
from ircore.models import IncidentType, Service

from .models import Runbook

FIELDS = ("title", "slug", "services", "incident_types")
REQUIRED = ("title", "slug")
TITLE_MAX = Runbook._meta.get_field("title").max_length
SLUG_MAX = Runbook._meta.get_field("slug").max_length
FENCE = "---"


class RunbookFileError(RuleError):
    """A runbook file that cannot be loaded; ``field`` names the front-matter field (or
    ``front matter``/``body``/``file``), and the message starts with the file's name."""

    def __init__(self, path: Path, field: str, problem: str):
        super().__init__(f"{path.name}: {field}: {problem}", field=field)
        self.path = path


@dataclass(frozen=True)
class RunbookFile:
    path: Path
    title: str
    slug: str
    body: str
    services: tuple[str, ...] = ()
    incident_types: tuple[str, ...] = ()


@dataclass
class LoadSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.warnings)} warnings"
        )


def parse_runbook(path: Path) -> RunbookFile:
    """Read one runbook file, or raise ``RunbookFileError`` naming the field at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RunbookFileError(path, "file", "not UTF-8 text.") from None
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != FENCE:
        raise RunbookFileError(path, "front matter", f"the file must start with a '{FENCE}' line.")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == FENCE)
    except StopIteration:
        raise RunbookFileError(
            path, "front matter", f"no closing '{FENCE}' line after the front matter."
        ) from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 2})" if where is not None else ""
        raise RunbookFileError(path, "front matter", f"not valid YAML{line}.") from None
    if not isinstance(meta, dict):
        raise RunbookFileError(path, "front matter", "must be a mapping of field: value.")

    for key in meta:
        if key not in FIELDS:
            raise RunbookFileError(path, str(key), f"unknown field; use {', '.join(FIELDS)}.")
    for key in REQUIRED:
        if meta.get(key) in (None, ""):
            raise RunbookFileError(path, key, "required.")

    title = meta["title"]
    if not isinstance(title, str) or not title.strip():
        raise RunbookFileError(path, "title", "must be text.")
    title = title.strip()
    if len(title) > TITLE_MAX:
        raise RunbookFileError(path, "title", f"at most {TITLE_MAX} characters.")

    slug = meta["slug"]
    if not isinstance(slug, str):
        raise RunbookFileError(path, "slug", "must be text.")
    try:
        validate_slug(slug)
    except ValidationError:
        raise RunbookFileError(
            path, "slug", f"{slug!r} is not a slug (letters, digits, hyphens, underscores)."
        ) from None
    if len(slug) > SLUG_MAX:
        raise RunbookFileError(path, "slug", f"at most {SLUG_MAX} characters.")

    body = "\n".join(lines[end + 1 :]).strip()
    if not body:
        raise RunbookFileError(path, "body", "the runbook has no text after the front matter.")

    return RunbookFile(
        path=path,
        title=title,
        slug=slug,
        body=body + "\n",
        services=_names(path, "services", meta.get("services")),
        incident_types=_names(path, "incident_types", meta.get("incident_types")),
    )


def _names(path: Path, key: str, value: Any) -> tuple[str, ...]:
    """An optional list of slugs/keys; duplicates collapse."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RunbookFileError(path, key, "must be a list of names, e.g. [payments-api].")
    return tuple(dict.fromkeys(v.strip() for v in value))


def read_runbooks(directory: Path | str) -> list[RunbookFile]:
    """Parse every ``*.md`` file of ``directory`` (sorted by name), refusing duplicate slugs."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RuleError(f"{directory} is not a directory.", field="directory")
    files = [parse_runbook(path) for path in sorted(directory.glob("*.md")) if path.is_file()]
    seen: dict[str, Path] = {}
    for runbook in files:
        if runbook.slug in seen:
            raise RunbookFileError(
                runbook.path,
                "slug",
                f"{runbook.slug!r} is also the slug of {seen[runbook.slug].name}.",
            )
        seen[runbook.slug] = runbook.path
    return files


def load_runbooks(directory: Path | str, *, user: Any = None) -> LoadSummary:
    """Upsert the runbooks of ``directory`` by slug; see the module docstring."""
    files = read_runbooks(directory)
    summary = LoadSummary()
    services = _by_name(Service.objects.all(), "slug", (s for f in files for s in f.services))
    types = _by_name(
        IncidentType.objects.all(), "key", (t for f in files for t in f.incident_types)
    )
    with transaction.atomic():
        existing = {
            rb.slug: rb
            for rb in Runbook.objects.filter(slug__in=[f.slug for f in files]).prefetch_related(
                "services", "incident_types"
            )
        }
        for source in files:
            wanted_services = _linked(source, "service", source.services, services, summary)
            wanted_types = _linked(source, "incident type", source.incident_types, types, summary)
            runbook = existing.get(source.slug)
            if runbook is None:
                runbook = Runbook(slug=source.slug, title=source.title, body=source.body)
                _credit(runbook, user, "loaded from file")
                runbook.save()
                runbook.services.set(wanted_services)
                runbook.incident_types.set(wanted_types)
                summary.created.append(source.slug)
                continue
            changed = False
            if (runbook.title, runbook.body) != (source.title, source.body):
                runbook.title, runbook.body = source.title, source.body
                _credit(runbook, user, "loaded from file")
                runbook.save()
                changed = True
            if {s.pk for s in runbook.services.all()} != {s.pk for s in wanted_services}:
                _credit(runbook, user, "loaded from file")
                runbook.services.set(wanted_services)
                changed = True
            if {t.pk for t in runbook.incident_types.all()} != {t.pk for t in wanted_types}:
                _credit(runbook, user, "loaded from file")
                runbook.incident_types.set(wanted_types)
                changed = True
            (summary.updated if changed else summary.unchanged).append(source.slug)
    return summary


def _by_name(queryset, attribute: str, names: Iterable[str]) -> dict[str, Any]:
    return {
        getattr(row, attribute): row for row in queryset.filter(**{f"{attribute}__in": set(names)})
    }


def _linked(source: RunbookFile, what: str, names, known: dict[str, Any], summary: LoadSummary):
    rows = []
    for name in names:
        if name in known:
            rows.append(known[name])
        else:
            summary.warnings.append(f"{source.path.name}: unknown {what} {name!r} skipped.")
    return rows


def _credit(runbook: Runbook, user: Any, reason: str) -> None:
    if getattr(user, "pk", None):
        runbook._history_user = user
    runbook._change_reason = reason
