"""The ``incident_types`` section: kinds of incident, with their regulatory deadline, their
security checkpoints and whether their notices need a legal reviewer."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from ..models import IncidentType
from .durations import MAX_DURATION
from .entries import (
    EntryReader,
    RowsPlan,
    Unique,
    apply_rows,
    deletion_problems,
    entries,
    max_length,
)
from .problems import show
from .registry import Counts, ImportContext, PolicySection

TYPE_FIELDS = (
    "key",
    "name",
    "description",
    "regulatory_notification_hours",
    "security_checkpoints",
    "legal_review_required",
)
# A deadline is a target like any other: at most a year.
_MAX_HOURS = int(MAX_DURATION.total_seconds()) // 3600


def export_incident_types() -> list[dict[str, Any]]:
    return [
        {
            "key": t.key,
            "name": t.name,
            "description": t.description,
            "regulatory_notification_hours": t.regulatory_notification_hours,
            "security_checkpoints": t.security_checkpoints,
            "legal_review_required": t.legal_review_required,
        }
        for t in IncidentType.objects.order_by("key")
    ]


def validate_incident_types(value: Any, ctx: ImportContext) -> RowsPlan:
    found = []
    keys = Unique()
    for i, data in enumerate(entries(ctx, "incident_types", value)):
        r = EntryReader(ctx, f"incident_types[{i}]", data, TYPE_FIELDS)
        key = r.text("key", required=True, max_length=max_length(IncidentType, "key"))
        if key:
            try:
                validate_slug(key)
            except ValidationError:
                r.problem("key", f"{show(key)} must be letters, digits, - and _ only")
        keys.check(r, "key", key or None)
        found.append(
            {
                "key": key,
                "name": r.text("name", required=True, max_length=max_length(IncidentType, "name")),
                "description": r.text("description"),
                "regulatory_notification_hours": r.integer(
                    "regulatory_notification_hours", maximum=_MAX_HOURS
                ),
                "security_checkpoints": r.boolean("security_checkpoints"),
                "legal_review_required": r.boolean("legal_review_required"),
            }
        )
    removed = IncidentType.objects.exclude(key__in=[e["key"] for e in found]).order_by("key")
    return RowsPlan(found, deletion_problems(ctx, "incident_types", removed, {IncidentType}))


def apply_incident_types(plan: RowsPlan, ctx: ImportContext) -> Counts:
    return apply_rows(plan, ctx, IncidentType, "key")


SECTION = PolicySection(
    "incident_types",
    export_incident_types,
    validate_incident_types,
    apply_incident_types,
    order=20,
)
