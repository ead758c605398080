"""The whole document: export every section, import them all or nothing."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from .entries import suggest
from .problems import PolicyError, show
from .registry import VERSION, Counts, ImportContext, ImportSummary, sections


def export_policy() -> dict[str, Any]:
    """The whole policy as one document, sections in their registry order."""
    document: dict[str, Any] = {"version": VERSION}
    for section in sections():
        document[section.name] = section.export()
    return document


def import_policy(
    document: Any,
    *,
    dry_run: bool = False,
    user: Any = None,
    severity_map: dict[str, str] | None = None,
) -> ImportSummary:
    """Validate the whole document, then apply it in one transaction.

    1. Check the top level: a mapping, ``version: 1``, only known sections.
    2. Validate each present section in order, collecting every problem (types,
       required fields, duplicates, durations, users, rows still referenced, the
       severity map against the install and the file).
    3. Any problem: raise ``PolicyError`` listing them; nothing was written.
    4. Apply each section; history rows carry the reason "policy import" (and rows a
       severity map moves, "policy import: SEV-1 -> P0"). ``dry_run`` rolls the
       transaction back at the end, so its counts are exactly what a real import would do.
    """
    ctx = ImportContext(
        document=document if isinstance(document, dict) else {},
        user=user,
        severity_map=dict(severity_map or {}),
    )
    ctx.summary.dry_run = dry_run
    if not isinstance(document, dict):
        raise PolicyError([f"the policy file must be a mapping of sections, got {show(document)}"])
    known = ["version", *(s.name for s in sections())]
    for key in document:
        if key not in known:
            ctx.problems.append(f"unknown section{suggest(str(key), known)}")
    version = document.get("version")
    # ``type`` rather than ``==``: true and 1.0 equal 1 in Python, not in a policy file.
    if type(version) is not int or version != VERSION:
        ctx.problems.append(f"version: {show(version)} is not supported (this install reads 1)")
    if ctx.severity_map and "severities" not in document:
        ctx.problems.append("map: the file has no severities section to map the levels to")

    with transaction.atomic():
        present = [s for s in sections() if s.name in document]
        for section in present:
            ctx.plans[section.name] = section.validate(document[section.name], ctx)
        if ctx.problems:
            raise PolicyError(ctx.problems)
        try:
            for section in present:
                # Placeholder first, so sub-counts a section adds (checklist items) follow it.
                ctx.summary.counts[section.name] = Counts()
                ctx.summary.counts[section.name] = section.apply(ctx.plans[section.name], ctx)
        except (ProtectedError, RestrictedError) as exc:
            # Something started using a row between validation and its removal.
            raise PolicyError(
                [f"{exc.args[0]} (it changed during the import; nothing was changed, try again)"]
            ) from None
        if dry_run:
            transaction.set_rollback(True)
    return ctx.summary
