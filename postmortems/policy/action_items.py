"""The ``action_items`` section: how many days an action item has by default, per priority.

::

    action_items:
      - {priority: p1, days: 7}
      - {priority: p2, days: 14}
      - {priority: p3, days: 30}
      - {priority: p4, days: 90}

A priority the file leaves out has no default (an item of it needs a date); the section, when
listed, is authoritative: rows it no longer lists are removed. History says "policy import".
"""

from __future__ import annotations

from typing import Any

from ircore.policy import Counts, EntryReader, PolicySection
from ircore.policy.entries import RowsPlan, Unique, apply_rows, entries
from ircore.policy.problems import show
from ircore.policy.registry import ImportContext

from ..models import ActionItem, ActionItemDeadline
from ..models.actions import MAX_DUE_DAYS

FIELDS = ("priority", "days")


def export_action_items() -> list[dict[str, Any]]:
    return [
        {"priority": row.priority, "days": row.days}
        for row in ActionItemDeadline.objects.order_by("priority")
    ]


def validate_action_items(value: Any, ctx: ImportContext) -> RowsPlan:
    found = []
    seen = Unique()
    for i, data in enumerate(entries(ctx, "action_items", value)):
        r = EntryReader(ctx, f"action_items[{i}]", data, FIELDS, key="priority")
        priority = r.raw("priority", True)
        if priority is not None and priority not in ActionItem.Priority.values:
            known = ", ".join(ActionItem.Priority.values)
            r.problem("priority", f"{show(priority)} is not a priority (known: {known})")
            priority = None
        seen.check(r, "priority", priority)
        days = r.integer("days", required=True, minimum=1, maximum=MAX_DUE_DAYS)
        if priority is not None and days is not None:
            found.append({"priority": priority, "days": days})
    keep = [e["priority"] for e in found]
    # Nothing refers to these rows (items keep their own dates), so removing one is free.
    removed = list(ActionItemDeadline.objects.exclude(priority__in=keep))
    return RowsPlan(found, removed)


def apply_action_items(plan: RowsPlan, ctx: ImportContext) -> Counts:
    return apply_rows(plan, ctx, ActionItemDeadline, "priority")


# After the ircore sections and on-call's (nothing here refers to them).
SECTION = PolicySection(
    "action_items", export_action_items, validate_action_items, apply_action_items, order=80
)
