"""The ``cost`` section of the policy file: what an hour of incident response costs, weighted
by the role a person held (the responder labour line of the cost assessment)::

    cost:
      - name: Responder labour
        hourly_cost: 100        # one engineer-hour, in the install's currency
        paged_weight: 1         # an hour paged without a role
        role_weights:           # incidents' role keys; a role left out weighs 1
          ic: 1.5
          tech_lead: 1.25
          comms_lead: 1
          sme: 1
          exec_sponsor: 2

One entry at most (an install has one set of rates). Each service's revenue per minute and SLA
credit are not here: they are figures of this install's own services, edited in the admin
("Service cost figures"), as the policy file carries no services.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from incidents.models import RoleAssignment
from ircore.policy import Counts, EntryReader, PolicySection
from ircore.policy.entries import RowsPlan, changed, deletion_problems, entries, max_length
from ircore.policy.problems import show
from ircore.policy.registry import ImportContext

from .models import CostRates

COST_FIELDS = ("name", "hourly_cost", "paged_weight", "role_weights")
SECTION_NAME = "cost"
_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal(10) ** 12  # CostRates.hourly_cost: 14 digits, 2 decimals
_MAX_WEIGHT = Decimal(1000)  # CostRates weights: 5 digits, 2 decimals


def _number(value: Decimal) -> int | float:
    """A stored figure as the file writes it: 100, 1.5."""
    return int(value) if value == value.to_integral_value() else float(value)


def export_cost() -> list[dict[str, Any]]:
    return [
        {
            "name": rates.name,
            "hourly_cost": _number(rates.hourly_cost),
            "paged_weight": _number(rates.paged_weight),
            "role_weights": {
                role: _number(rates.weight_of(role))
                for role in RoleAssignment.Role.values
                if role in rates.role_weights
            },
        }
        for rates in CostRates.objects.order_by("name")
    ]


def _decimal(r: EntryReader, name: str, value: Any, *, upper: Decimal) -> Decimal | None:
    """A figure at least 0 and below ``upper``, with at most two decimals."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        text = str(value).replace(",", "").strip()
        if len(text) > 32:
            raise InvalidOperation
        number = Decimal(text)
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        r.problem(name, f"{show(value)} is not a number (use e.g. 100 or 1.5)")
        return None
    if number < 0 or number >= upper:
        r.problem(name, f"{show(value)} must be at least 0 and less than {upper:,}")
        return None
    if number != number.quantize(_CENT):
        r.problem(name, f"{show(value)} has more than 2 decimals")
        return None
    return number.quantize(_CENT)


def validate_cost(value: Any, ctx: ImportContext) -> RowsPlan:
    items = entries(ctx, SECTION_NAME, value)
    if len(items) > 1:
        ctx.problems.append(
            f"{SECTION_NAME}: {len(items)} entries; an install has one set of rates (give one)"
        )
    roles = RoleAssignment.Role.values
    found = []
    for i, data in enumerate(items[:1]):
        r = EntryReader(ctx, f"{SECTION_NAME}[{i}]", data, COST_FIELDS, key="name")
        name = r.text("name", required=True, max_length=max_length(CostRates, "name"))
        hourly = r.raw("hourly_cost", required=True)
        hourly = (
            _decimal(r, "hourly_cost", hourly, upper=_MAX_AMOUNT) if hourly is not None else None
        )
        paged = r.raw("paged_weight")
        paged = (
            Decimal(1) if paged is None else _decimal(r, "paged_weight", paged, upper=_MAX_WEIGHT)
        )
        weights: dict[str, str] = {}
        given = r.raw("role_weights")
        if given is not None and not isinstance(given, dict):
            r.problem("role_weights", f"expected a mapping of role: weight, got {show(given)}")
            given = {}
        for role, weight in (given or {}).items():
            if role not in roles:
                r.problem(f"role_weights.{role}", f"not a role (known: {', '.join(roles)})")
                continue
            number = _decimal(r, f"role_weights.{role}", weight, upper=_MAX_WEIGHT)
            if number is not None:
                weights[role] = str(number)
        found.append(
            {
                "name": name,
                "hourly_cost": hourly,
                "paged_weight": paged,
                "role_weights": {role: weights[role] for role in roles if role in weights},
            }
        )
    keep = [e["name"] for e in found]
    removed = CostRates.objects.exclude(name__in=keep).order_by("name")
    return RowsPlan(found, deletion_problems(ctx, SECTION_NAME, removed, {CostRates}))


def _same_weights(stored: dict, wanted: dict) -> bool:
    return {k: Decimal(str(v)) for k, v in stored.items()} == {
        k: Decimal(v) for k, v in wanted.items()
    }


def apply_cost(plan: RowsPlan, ctx: ImportContext) -> Counts:
    counts = Counts()
    for row in plan.delete:
        ctx.mark(row).delete()
        counts.deleted += 1
    existing = {r.name: r for r in CostRates.objects.select_for_update()}
    for entry in plan.entries:
        row = existing.get(entry["name"])
        if row is None:
            ctx.mark(CostRates(**entry)).save()
            counts.created += 1
            continue
        plain = {k: v for k, v in entry.items() if k != "role_weights"}
        if changed(row, plain) or not _same_weights(row.role_weights, entry["role_weights"]):
            for name, value in entry.items():
                setattr(row, name, value)
            ctx.mark(row).save()
            counts.updated += 1
    return counts


SECTION = PolicySection(SECTION_NAME, export_cost, validate_cost, apply_cost, order=85)
