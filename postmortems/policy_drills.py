"""The ``drills`` section of the policy file: for each kind of drill, how often it is run,
the times it must beat, and its scenarios by quarter (003_* "Incident Response Testing &
Drills")::

    drills:
      - kind: game_day              # tabletop, game_day, chaos
        every: quarter              # month, quarter, year; null: no set cadence
        description: Controlled production environment testing ...
        detect_target: 15m          # detected - impact started
        ack_target: 15m             # acknowledged - detected
        resolve_target: 1h          # resolved - detected
        scenarios:
          - quarter: 1
            scenario: Notification system failure simulation

A drill scheduled of a kind takes its targets from here, and its scenario from the quarter
it falls in when none is given. Import replaces each plan's scenarios; drills already
scheduled keep the targets they were given (they are the record of what was asked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ircore.policy import Counts, EntryReader, PolicySection, format_duration
from ircore.policy.entries import (
    MAX_LIST_ITEMS,
    Unique,
    deletion_problems,
    entries,
    max_length,
    upsert,
)
from ircore.policy.problems import show
from ircore.policy.registry import ImportContext

from .models import DrillPlan, DrillScenario
from .models.drills import Cadence, DrillKind

PLAN_FIELDS = (
    "kind",
    "every",
    "description",
    "detect_target",
    "ack_target",
    "resolve_target",
    "scenarios",
)
SCENARIO_FIELDS = ("quarter", "scenario")
TARGETS = ("detect_target", "ack_target", "resolve_target")
SECTION_NAME = "drills"


def export_drills() -> list[dict[str, Any]]:
    order = {kind: i for i, kind in enumerate(DrillKind.values)}
    plans = sorted(DrillPlan.objects.prefetch_related("scenarios"), key=lambda p: order[p.kind])
    return [
        {
            "kind": plan.kind,
            "every": plan.every or None,
            "description": plan.description,
            **{name: format_duration(getattr(plan, name)) for name in TARGETS},
            "scenarios": [
                {"quarter": s.quarter, "scenario": s.scenario}
                for s in sorted(plan.scenarios.all(), key=lambda s: s.quarter)
            ],
        }
        for plan in plans
    ]


@dataclass
class PlanEntry:
    values: dict[str, Any]
    scenarios: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class DrillsPlan:
    entries: list[PlanEntry]
    delete: list[DrillPlan]


def _scenarios(r: EntryReader) -> list[tuple[int, str]]:
    value = r.raw("scenarios")
    if value is None:
        return []
    if not isinstance(value, list):
        r.problem("scenarios", f"expected a list of {{quarter, scenario}}, got {show(value)}")
        return []
    if len(value) > MAX_LIST_ITEMS:
        r.problem("scenarios", f"lists {len(value):,} items (at most {MAX_LIST_ITEMS:,})")
        return []
    found, quarters = [], Unique()
    limit = max_length(DrillScenario, "scenario")
    for i, data in enumerate(value):
        item = EntryReader(r.ctx, f"{r.label}.scenarios[{i}]", data, SCENARIO_FIELDS, key=None)
        quarter = item.integer("quarter", required=True, minimum=1, maximum=4)
        quarters.check(item, "quarter", quarter, shown=f"Q{quarter}")
        text = item.text("scenario", required=True, max_length=limit)
        if quarter is not None and text:
            found.append((quarter, text))
    return sorted(found)


def validate_drills(value: Any, ctx: ImportContext) -> DrillsPlan:
    found, kinds = [], Unique()
    for i, data in enumerate(entries(ctx, SECTION_NAME, value)):
        r = EntryReader(ctx, f"{SECTION_NAME}[{i}]", data, PLAN_FIELDS, key="kind")
        kind = r.text("kind", required=True)
        if kind and kind not in DrillKind.values:
            r.problem(
                "kind", f"{show(kind)} is not a kind of drill ({', '.join(DrillKind.values)})"
            )
            kind = ""
        kinds.check(r, "kind", kind or None)
        every = r.text("every")
        if every and every not in Cadence.values:
            r.problem("every", f"{show(every)} is not a cadence ({', '.join(Cadence.values)})")
            every = ""
        values = {
            "kind": kind,
            "every": every,
            "description": r.text("description"),
            **{name: r.duration(name) for name in TARGETS},
        }
        found.append(PlanEntry(values, _scenarios(r)))
    keep = {e.values["kind"] for e in found}
    removed = DrillPlan.objects.exclude(kind__in=keep).order_by("kind")
    owned = {DrillPlan, DrillScenario}
    return DrillsPlan(found, deletion_problems(ctx, SECTION_NAME, removed, owned))


def apply_drills(plan: DrillsPlan, ctx: ImportContext) -> Counts:
    counts, scenario_counts = Counts(), Counts()
    for row in plan.delete:
        for scenario in row.scenarios.all():
            ctx.mark(scenario).delete()
            scenario_counts.deleted += 1
        ctx.mark(row).delete()
        counts.deleted += 1
    existing = {p.kind: p for p in DrillPlan.objects.select_for_update()}
    for entry in plan.entries:
        row = upsert(ctx, counts, existing.get(entry.values["kind"]), DrillPlan, entry.values)
        _apply_scenarios(row, entry.scenarios, scenario_counts, ctx)
    ctx.summary.counts["drill scenarios"] = scenario_counts
    return counts


def _apply_scenarios(
    plan: DrillPlan, wanted: list[tuple[int, str]], counts: Counts, ctx: ImportContext
) -> None:
    current = {s.quarter: s for s in DrillScenario.objects.filter(plan=plan)}
    by_quarter = dict(wanted)
    for quarter, row in current.items():
        if quarter not in by_quarter:
            ctx.mark(row).delete()
            counts.deleted += 1
    for quarter, text in wanted:
        values = {"plan_id": plan.pk, "quarter": quarter, "scenario": text}  # no plan reads
        upsert(ctx, counts, current.get(quarter), DrillScenario, values)


SECTION = PolicySection(SECTION_NAME, export_drills, validate_drills, apply_drills, order=80)
