"""The cost verbs: pre-fill an incident's assessment from what the tool knows, adjust a line,
keep the total. People's adjustments are never overwritten by a later pre-fill: a line keeps
both figures (``CostLine.prefilled`` and ``CostLine.amount``) and history keeps every change.

What the pre-fill works out (each line's ``basis`` shows the sum):

- **Engineering time** (responder labour): for each person, the time they held a role on the
  incident (``RoleAssignment`` assigned to relieved) or were paged about it (an ``oncall``
  page sent to them: from when it was sent to when it was stopped, or to the end if they
  acknowledged it or it still stands), clipped to the incident (declared to resolved; now, if
  it is open). Each moment counts once per person, at the highest weight they held then
  (a paged IC counts as IC), times the hourly cost (``CostRates``, the policy's ``cost``
  section). No rates: labour is not priced.
- **Lost revenue** (revenue at risk): each affected service's revenue per minute
  (``ServiceCost``) over the outage: impact started (else detected, else declared) to
  mitigated (else resolved; now, if it is neither). The whole revenue of the service is at
  risk whatever its status.
- **SLA penalties** (SLA credits): each affected service's credit, owed when the outage
  outlasts its grace.

A drill incident has no assessment: drills never count in the figures.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents.models import Incident, IncidentService, RoleAssignment
from ircore.errors import RuleError
from oncall.models import Page

from ..models import CostAssessment, CostLine, CostRates, ServiceCost
from ..models.cost import LINES

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
NOTES_LIMIT = 10_000
Key = CostLine.Key
# Pages that reached their person (a failed or pending page woke nobody).
REACHED = (Page.Status.SENT, Page.Status.ACKNOWLEDGED, Page.Status.STOPPED)
PAGED = "paged"


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _mark(obj: Any, user: Any, reason: str) -> Any:
    if getattr(user, "pk", None):
        obj._history_user = user
    obj._change_reason = reason[:100]
    return obj


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _fmt(value: Decimal) -> str:
    return f"{money(value):,.2f}"


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


# --- what the tool knows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Prefill:
    amount: Decimal | None
    basis: str


def labour_window(incident: Incident, now: datetime) -> tuple[datetime, datetime]:
    end = incident.resolved_at or incident.closed_at or now
    return incident.declared_at, max(end, incident.declared_at)


def outage_window(incident: Incident, now: datetime) -> tuple[datetime, datetime]:
    start = incident.impact_started_at or incident.detected_at or incident.declared_at
    end = incident.mitigated_at or incident.resolved_at or incident.closed_at or now
    return start, max(end, start)


def _intervals(incident: Incident, start: datetime, end: datetime) -> dict[Any, list]:
    """{person: [(from, to, what)]}: roles held and pages received, clipped to the window;
    ``what`` is a role value or ``PAGED``."""
    found: dict[Any, list] = {}

    def add(person, since, until, what):
        since, until = max(since, start), min(until, end)
        if until > since:
            found.setdefault(person, []).append((since, until, what))

    roles = RoleAssignment.objects.filter(incident=incident).select_related("user")
    for row in roles.order_by("assigned_at", "id"):
        add(row.user, row.assigned_at, row.relieved_at or end, row.role)
    pages = (
        Page.objects.filter(
            incident=incident,
            recipient__isnull=False,
            paged_at__isnull=False,
            status__in=REACHED,
        )
        .select_related("recipient")
        .order_by("paged_at", "id")
    )
    for page in pages:
        stood_down = page.status == Page.Status.STOPPED and page.stopped_at is not None
        add(page.recipient, page.paged_at, page.stopped_at if stood_down else end, PAGED)
    return found


def _weighted_seconds(spans: list, weight) -> tuple[Decimal, dict[str, Decimal]]:
    """Each moment once, at the highest weight held then: the weighted seconds, and the
    seconds spent under each role (or paged)."""
    points = sorted({t for since, until, _ in spans for t in (since, until)})
    weighted, by_what = Decimal(0), {}
    for left, right in zip(points, points[1:], strict=False):
        holding = [what for since, until, what in spans if since <= left and until >= right]
        if not holding:
            continue
        top = max(holding, key=weight)
        seconds = Decimal((right - left).total_seconds())
        weighted += seconds * weight(top)
        by_what[top] = by_what.get(top, Decimal(0)) + seconds
    return weighted, by_what


def _hours(seconds: Decimal) -> str:
    return f"{(seconds / 3600).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} h"


def _label(what: str) -> str:
    return "paged" if what == PAGED else f"as {RoleAssignment.Role(what).label}"


def prefill_labour(incident: Incident, now: datetime) -> Prefill:
    rates = CostRates.objects.order_by("name").first()
    if rates is None:
        return Prefill(None, "No cost rates in the policy (its cost section): labour not priced.")

    def weight(what: str) -> Decimal:
        return rates.paged_weight if what == PAGED else rates.weight_of(what)

    start, end = labour_window(incident, now)
    people = _intervals(incident, start, end)
    if not people:
        return Prefill(Decimal(0), "Nobody held a role or was paged.")
    total_weighted, lines = Decimal(0), []
    for person in sorted(people, key=lambda p: p.get_username()):
        weighted, by_what = _weighted_seconds(people[person], weight)
        total_weighted += weighted
        parts = ", ".join(
            f"{_hours(seconds)} {_label(what)} (×{weight(what).normalize():f})"
            for what, seconds in by_what.items()
        )
        lines.append(f"{_name(person)}: {parts}")
    amount = money(total_weighted / 3600 * rates.hourly_cost)
    basis = (
        f"{_hours(total_weighted)} weighted × {_fmt(rates.hourly_cost)}/h = {_fmt(amount)}. "
        + "; ".join(lines)
        + "."
    )
    return Prefill(amount, basis)


def _figures(incident: Incident) -> list[tuple[Any, ServiceCost]]:
    """The affected services that have cost figures, by name."""
    affected = IncidentService.objects.filter(incident=incident).values_list(
        "service_id", flat=True
    )
    rows = ServiceCost.objects.filter(service_id__in=affected).select_related("service")
    return [(row.service, row) for row in sorted(rows, key=lambda r: r.service.name)]


def prefill_revenue(incident: Incident, figures: list, now: datetime) -> Prefill:
    if not figures:
        return Prefill(None, "No affected service has cost figures (revenue per minute).")
    start, end = outage_window(incident, now)
    minutes = Decimal((end - start).total_seconds()) / 60
    shown = minutes.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP).normalize()
    total, parts = Decimal(0), []
    for service, row in figures:
        amount = money(row.revenue_per_minute * minutes)
        total += amount
        parts.append(
            f"{service}: {shown:f} min × {_fmt(row.revenue_per_minute)}/min = {_fmt(amount)}"
        )
    return Prefill(money(total), "; ".join(parts) + ".")


def prefill_sla(incident: Incident, figures: list, now: datetime) -> Prefill:
    credited = [(s, row) for s, row in figures if row.sla_credit > 0]
    if not credited:
        return Prefill(None, "No affected service has an SLA credit.")
    start, end = outage_window(incident, now)
    outage = end - start
    total, parts = Decimal(0), []
    for service, row in credited:
        grace = row.sla_credit_after or timedelta(0)
        if outage > grace:
            total += row.sla_credit
            parts.append(f"{service}: {_fmt(row.sla_credit)} (outage over {_grace(grace)})")
        else:
            parts.append(f"{service}: none (outage within {_grace(grace)})")
    return Prefill(money(total), "; ".join(parts) + ".")


def _grace(grace: timedelta) -> str:
    from ircore.policy import format_duration

    return format_duration(grace) or "0s"


def prefills(incident: Incident, now: datetime) -> dict[str, Prefill]:
    figures = _figures(incident)
    return {
        Key.ENGINEERING_TIME: prefill_labour(incident, now),
        Key.LOST_REVENUE: prefill_revenue(incident, figures, now),
        Key.SLA_PENALTIES: prefill_sla(incident, figures, now),
    }


# --- the verbs -------------------------------------------------------------------------------


def _assessment_for(incident: Incident, user: Any, now: datetime) -> CostAssessment:
    """The incident's assessment, locked; made with its template lines if there is none."""
    found = CostAssessment.objects.select_for_update().filter(incident=incident).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            assessment = CostAssessment(
                incident=incident,
                created_at=now,
                created_by=user if getattr(user, "pk", None) else None,
            )
            _mark(assessment, user, "opened").save()
            for position, (key, category) in enumerate(LINES, start=1):
                line = CostLine(
                    assessment=assessment, key=key, category=category, position=position
                )
                _mark(line, user, "opened").save()
    except IntegrityError:  # opened meanwhile by another request: theirs stands
        pass
    return CostAssessment.objects.select_for_update().get(incident=incident)


def cost_prefill(*, incident: Incident, user: Any, now: datetime | None = None) -> CostAssessment:
    """Open the incident's assessment (the template's lines) or refresh it: the pre-filled
    figures of engineering time, lost revenue and SLA penalties are worked out again from
    the incident as it is now; adjusted figures stay as people set them. The total follows."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update(of=("self",)).get(pk=incident.pk)
        now = _now(now)
        if incident.is_drill:
            raise RuleError(
                f"{incident.reference} is a drill: drills never count in the figures, and "
                "have no cost assessment.",
                field="incident",
            )
        assessment = _assessment_for(incident, user, now)
        lines = {line.key: line for line in assessment.lines.select_for_update()}
        refreshed = assessment.prefilled_at is None
        for key, found in prefills(incident, now).items():
            line = lines.get(key)
            if line is None:
                continue
            if (line.prefilled, line.basis) != (found.amount, found.basis):
                line.prefilled, line.basis = found.amount, found.basis
                _mark(line, user, "pre-filled").save(update_fields=["prefilled", "basis"])
                refreshed = True
        if refreshed:  # a refresh that finds the same figures leaves no history row
            assessment.prefilled_at = now
            _mark(assessment, user, "pre-filled").save(update_fields=["prefilled_at"])
        cost_recompute_total(assessment=assessment, user=user)
    return assessment


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
            raise ValueError
        amount = Decimal(str(value).replace(",", "").strip())
    except (ValueError, ArithmeticError):
        raise RuleError("Give an amount, e.g. 2500 or 120.50.", field="amount") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 12:
        raise RuleError("Give an amount of 0 or more, below 1,000,000,000,000.", field="amount")
    if amount != amount.quantize(CENT):
        raise RuleError("At most 2 decimals.", field="amount")
    return amount.quantize(CENT)


def cost_adjust(*, line: CostLine, amount: Any, user: Any, note: str = "") -> CostLine:
    """Set a line's figure (``None`` or "" takes it back to the pre-filled one). The
    pre-filled figure stays on the line; history keeps both, with who and why."""
    amount = _amount(amount)
    if not isinstance(note, str) or "\x00" in note:
        raise RuleError("Give the reason as text.", field="note")
    note = note.strip()
    limit = CostLine._meta.get_field("note").max_length
    if len(note) > limit:
        raise RuleError(f"At most {limit} characters (this is {len(note)}).", field="note")
    with transaction.atomic():
        row = CostLine.objects.select_for_update().select_related("assessment").get(pk=line.pk)
        if (row.amount, row.note) != (amount, note):
            row.amount, row.note = amount, note
            _mark(row, user, "adjusted" if amount is not None else "back to pre-filled").save(
                update_fields=["amount", "note"]
            )
        assessment = CostAssessment.objects.select_for_update().get(pk=row.assessment_id)
        cost_recompute_total(assessment=assessment, user=user)
    line.refresh_from_db()
    return row


def cost_set_notes(*, assessment: CostAssessment, notes: str, user: Any) -> CostAssessment:
    if not isinstance(notes, str) or "\x00" in notes:
        raise RuleError("Give the notes as text.", field="notes")
    notes = notes.strip()
    if len(notes) > NOTES_LIMIT:
        raise RuleError(f"At most {NOTES_LIMIT:,} characters.", field="notes")
    with transaction.atomic():
        row = CostAssessment.objects.select_for_update().get(pk=assessment.pk)
        if row.notes != notes:
            row.notes = notes
            _mark(row, user, "notes").save(update_fields=["notes"])
    return row


def cost_recompute_total(*, assessment: CostAssessment, user: Any = None) -> Decimal:
    """Sum the lines (each its adjusted figure, else its pre-filled one) in SQL and keep the
    total on the assessment, which the reports sum."""
    zero = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))
    total = CostLine.objects.filter(assessment_id=assessment.pk).aggregate(
        total=Coalesce(Sum(Coalesce("amount", "prefilled", zero)), zero)
    )["total"]
    total = money(Decimal(total))
    if assessment.total != total:
        assessment.total = total
        _mark(assessment, user, "total").save(update_fields=["total"])
    return total


def prefill_on_resolved(sender: Any, incident: Incident, **kwargs: Any) -> None:
    """Receiver of ``incident_resolved``: a real incident's assessment is opened, or its
    pre-filled figures refreshed, as it is resolved (by hand it can be done any time)."""
    if incident.is_drill:
        return
    cost_prefill(incident=incident, user=None)
