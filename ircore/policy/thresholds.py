"""The ``financial_thresholds`` section: impact amounts and who hears when one is crossed."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..models import FinancialThreshold
from .entries import (
    EntryReader,
    RowsPlan,
    Unique,
    changed,
    deletion_problems,
    entries,
    max_length,
)
from .problems import show
from .registry import Counts, ImportContext, PolicySection

THRESHOLD_FIELDS = ("amount", "audience", "notify_emails", "notify_users")
_CENT = Decimal("0.01")
# FinancialThreshold.amount: 14 digits, 2 of them decimals.
_MAX_AMOUNT = Decimal(10) ** 12
_AMOUNT_HINT = "use e.g. 10000 or 2500.50"


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
        text = str(value).replace(",", "").strip()
        # Decimal reads any length of digits; an amount has at most 15 characters.
        if len(text) > 32:
            raise InvalidOperation
        amount = Decimal(text)
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        r.problem("amount", f"{show(value)} is not an amount ({_AMOUNT_HINT})")
        return None
    # Compare before quantizing: quantize() itself fails on 1e400.
    if amount < 0 or amount >= _MAX_AMOUNT:
        r.problem("amount", f"{show(value)} must be at least 0 and less than 1,000,000,000,000")
        return None
    if amount != amount.quantize(_CENT):
        r.problem("amount", f"{show(value)} has more than 2 decimals")
        return None
    return amount.quantize(_CENT)


def validate_financial_thresholds(value: Any, ctx: ImportContext) -> RowsPlan:
    User = get_user_model()
    username_field = User.USERNAME_FIELD
    found = []
    amounts = Unique()
    readers = []
    for i, data in enumerate(entries(ctx, "financial_thresholds", value)):
        r = EntryReader(ctx, f"financial_thresholds[{i}]", data, THRESHOLD_FIELDS, key="amount")
        amount = _read_amount(r)
        amounts.check(r, "amount", amount, shown=str(_export_amount(amount or Decimal(0))))
        emails = r.text_list("notify_emails", unique=True)
        for j, email in enumerate(emails):
            try:
                validate_email(email)
            except ValidationError:
                r.problem(f"notify_emails[{j}]", f"{show(email)} is not an email address")
        names = r.text_list("notify_users", unique=True)
        found.append(
            {
                "amount": amount,
                "audience": r.text(
                    "audience",
                    required=True,
                    max_length=max_length(FinancialThreshold, "audience"),
                ),
                "notify_emails": "\n".join(emails),
                "notify_users": names,
            }
        )
        readers.append(r)

    wanted_names = {n for e in found for n in e["notify_users"]}
    users = {
        getattr(u, username_field): u
        for u in User.objects.filter(**{f"{username_field}__in": wanted_names})
    }
    for r, entry in zip(readers, found, strict=True):
        for j, name in enumerate(entry["notify_users"]):
            if name not in users:
                r.problem(f"notify_users[{j}]", f"unknown user {show(name)}")
        entry["notify_users"] = [users[n] for n in entry["notify_users"] if n in users]

    keep = [e["amount"] for e in found if e["amount"] is not None]
    removed = FinancialThreshold.objects.exclude(amount__in=keep).order_by("amount")
    owned = {FinancialThreshold, FinancialThreshold.notify_users.through}
    return RowsPlan(found, deletion_problems(ctx, "financial_thresholds", removed, owned))


def apply_financial_thresholds(plan: RowsPlan, ctx: ImportContext) -> Counts:
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
        fields_changed = changed(row, values)
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


SECTION = PolicySection(
    "financial_thresholds",
    export_financial_thresholds,
    validate_financial_thresholds,
    apply_financial_thresholds,
    order=30,
)
