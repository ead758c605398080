"""Read paths of the comms app shared by the admin, the displays and the reports.

Update cadence (the rules: ``comms.services.cadence``):

- ``next_update_due(incident, audience)``: the update an incident owes one audience now,
  as ``(due_at, overdue_by)``, or None when it owes none.
- ``next_updates_due(incidents)``: the same for many incidents in one query (the board).
- ``cadence_kept(incidents)``: how well the cadence was kept, per audience (the reports).
- ``cadence_badges(incidents)``: the "next update due" lines of the board and the incident
  page (``ircore.hooks.incident_badges``).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from incidents.models import Incident
from incidents.templatetags.ir_time import zone_abbreviation

from .models import Audience, UpdateDue
from .models.cadence import CADENCE_AUDIENCES


class NextUpdate(NamedTuple):
    due_at: datetime
    # Zero until due_at has passed.
    overdue_by: timedelta


def next_updates_due(
    incidents: Iterable[Incident], *, now: datetime | None = None
) -> dict[int, dict[str, NextUpdate]]:
    """``{incident_id: {audience: NextUpdate}}`` for the pending rows of ``incidents`` (a
    list or a queryset), one query whatever their number; an incident or audience that owes
    nothing is left out."""
    now = now or timezone.now()
    ids = incidents if isinstance(incidents, QuerySet) else [i.pk for i in incidents]
    found: dict[int, dict[str, NextUpdate]] = {}
    if not isinstance(ids, QuerySet) and not ids:
        return found
    rows = UpdateDue.objects.pending().filter(incident__in=ids)
    for incident_id, audience, due_at in rows.values_list("incident_id", "audience", "due_at"):
        found.setdefault(incident_id, {})[audience] = NextUpdate(
            due_at, max(now - due_at, timedelta(0))
        )
    return found


def next_update_due(
    incident: Incident, audience: str = Audience.INTERNAL, *, now: datetime | None = None
) -> NextUpdate | None:
    """When ``incident`` owes ``audience`` its next update and how overdue it is (one
    query); None when it owes none (no cadence at its severity, or resolved)."""
    return next_updates_due([incident], now=now).get(incident.pk, {}).get(audience)


def cadence_kept(incidents: QuerySet, *, now: datetime | None = None) -> dict[str, dict]:
    """How well the cadence was kept for ``incidents`` (a queryset: the reports pass
    ``Incident.objects.real()`` narrowed to their period, so drills never count):

    ``{"internal": {"due", "on_time", "late", "missed"}, "customers": {...}}``

    ``due`` counts the updates that fell due by ``now``, plus those an update settled before
    their due time (``UpdateDue.objects.counted``); a pending row not yet due is no
    obligation yet. ``due - on_time - late - missed`` is what is overdue and still open to
    being sent late. One aggregate query.
    """
    now = now or timezone.now()
    Outcome = UpdateDue.Outcome
    figures = {
        audience: {"due": 0, "on_time": 0, "late": 0, "missed": 0} for audience in CADENCE_AUDIENCES
    }
    rows = (
        UpdateDue.objects.counted(now)
        .filter(incident__in=incidents, audience__in=CADENCE_AUDIENCES)
        .values("audience")
        .annotate(
            due=Count("id"),
            on_time=Count("id", filter=Q(outcome=Outcome.ON_TIME)),
            late=Count("id", filter=Q(outcome=Outcome.LATE)),
            missed=Count("id", filter=Q(outcome=Outcome.MISSED)),
        )
        .order_by()
    )
    for row in rows:
        figures[row.pop("audience")].update(row)
    return {str(audience): counts for audience, counts in figures.items()}


def _at(moment: datetime, now: datetime) -> str:
    """A time in the viewer's zone with its name; the date too when not today."""
    local = timezone.localtime(moment)
    shown = (
        f"{local:%H:%M}"
        if local.date() == timezone.localtime(now).date()
        else (f"{local.day} {local:%b %H:%M}")
    )
    return f"{shown} {zone_abbreviation(local)}"


BADGE_LABELS = {Audience.INTERNAL: "Internal update", Audience.CUSTOMERS: "Customer update"}


def cadence_badges(
    incidents: Iterable[Incident], *, now: datetime | None = None
) -> dict[int, list[tuple[str, str, str]]]:
    """``{incident_id: [(label, text, level)]}``: each update an incident owes, as the board
    and the incident page show it ("due 10:15 UTC, in 5m" at level "due"; "due now, 10:15
    UTC" or "overdue by 12m, due 10:15 UTC" at level "overdue"), internal first. One query."""
    from incidents.admin.display import humanise  # the admin's own wording of durations

    now = now or timezone.now()
    badges: dict[int, list[tuple[str, str, str]]] = {}
    for incident_id, owed in next_updates_due(incidents, now=now).items():
        for audience in CADENCE_AUDIENCES:
            if audience not in owed:
                continue
            due_at, overdue_by = owed[audience]
            when = _at(due_at, now)
            if due_at <= now and overdue_by < timedelta(minutes=1):
                text, level = f"due now, {when}", "overdue"  # not "overdue by 0m"
            elif due_at <= now:
                text, level = f"overdue by {humanise(overdue_by)}, due {when}", "overdue"
            else:
                text, level = f"due {when}, in {humanise(due_at - now)}", "due"
            badges.setdefault(incident_id, []).append((BADGE_LABELS[audience], text, level))
    return badges
