"""What a template sees of an incident: ``context_for(incident)``, plain dicts, lists, text
and numbers only (never a model instance), shaped exactly like ``placeholders.EXAMPLE``.

Four queries: the incident with its severity and type, its affected services, its current
role holders (with their profiles), and the last published notice per audience.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Max, Q
from django.utils import timezone

from comms.models import Audience, Notice
from incidents.models import Incident, IncidentService, RoleAssignment
from ircore.links import absolute_url

from .placeholders import TIME_FORMAT

STATUS_ICONS = {
    IncidentService.Status.OPERATIONAL: "🟢",
    IncidentService.Status.DEGRADED: "🟡",
    IncidentService.Status.PARTIAL_OUTAGE: "🟠",
    IncidentService.Status.MAJOR_OUTAGE: "🔴",
}
STATUS_PAGE_PATH = "/status/"


def when(moment: datetime | None) -> str | None:
    """A time as templates write it: UTC, ``TIME_FORMAT``."""
    return None if moment is None else moment.astimezone(UTC).strftime(TIME_FORMAT)


def spoken(span: timedelta | None) -> str | None:
    """``timedelta(minutes=55)`` -> "55 minutes"; 2h05m -> "2 hours 5 minutes"; whole
    minutes (seconds dropped), "less than a minute" below one."""
    if span is None:
        return None
    minutes = max(int(span.total_seconds()) // 60, 0)
    if minutes == 0:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n)


def next_update_at(
    incident: Incident, audience: str, last_sent: datetime | None
) -> datetime | None:
    """When the next update for ``audience`` is due: the severity's cadence after the last
    published update (or the declaration); none once resolved or without a cadence.

    The cadence area owns this rule (``comms.selectors.next_update_due``); this is the one
    place the templates read it from, to be pointed at that selector when both are merged.
    """
    if not incident.is_open:
        return None
    every = (
        incident.severity.internal_update_every
        if audience == Audience.INTERNAL
        else incident.severity.customer_update_every
    )
    if not every:
        return None
    return max(last_sent or incident.declared_at, incident.declared_at) + every


def _person(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _handle(user: Any) -> str | None:
    try:
        return user.profile.chat_handle or None
    except ObjectDoesNotExist:  # a user without a profile row has no handle
        return None


def context_for(incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
    """The documented context (``placeholders.PLACEHOLDERS``) of ``incident`` at ``now``."""
    now = now or timezone.now()
    incident = Incident.objects.select_related("severity", "incident_type").get(pk=incident.pk)
    severity = incident.severity

    affected = list(
        IncidentService.objects.filter(incident=incident)
        .select_related("service")
        .order_by("service__name", "id")
    )
    services = [
        {"name": a.service.name, "status": a.get_status_display(), "icon": STATUS_ICONS[a.status]}
        for a in affected
    ]
    public = [
        {
            "name": a.service.display_public_name,
            "status": a.get_status_display(),
            "icon": STATUS_ICONS[a.status],
        }
        for a in affected
        if a.service.public
    ]

    holders: dict[str, list[Any]] = {}
    current = (
        RoleAssignment.objects.filter(incident=incident, relieved_at__isnull=True)
        .select_related("user__profile")
        .order_by("assigned_at", "id")
    )
    for assignment in current:
        holders.setdefault(assignment.role, []).append(assignment.user)

    def holder(role: str) -> str | None:
        people = holders.get(role)
        return _person(people[0]) if people else None

    ic = holders.get(RoleAssignment.Role.INCIDENT_COMMANDER)
    last = (
        Notice.objects.published()
        .filter(incident=incident)
        .aggregate(
            internal=Max("published_at", filter=Q(audience=Audience.INTERNAL)),
            customers=Max("published_at", filter=Q(audience=Audience.CUSTOMERS)),
        )
    )
    started = incident.detected_at or incident.declared_at
    return {
        "reference": incident.reference,
        "title": incident.title,
        "summary": incident.summary,
        "severity": {
            "key": severity.key,
            "name": severity.name,
            "internal_update_every": spoken(severity.internal_update_every),
            "customer_update_every": spoken(severity.customer_update_every),
        },
        "status": incident.get_status_display(),
        "incident_type": incident.incident_type.name if incident.incident_type else None,
        "drill": incident.is_drill,
        "channel": incident.channel_name or None,
        "services": services,
        "service_names": ", ".join(s["name"] for s in services),
        "public_services": public,
        "public_service_names": ", ".join(s["name"] for s in public),
        "customers_affected": incident.customers_affected,
        "transactions_delayed": incident.transactions_delayed,
        "transactions_failed": incident.transactions_failed,
        "financial_impact": incident.financial_impact,
        "ic": _person(ic[0]) if ic else None,
        "ic_handle": _handle(ic[0]) if ic else None,
        "tech_lead": holder(RoleAssignment.Role.TECH_LEAD),
        "comms_lead": holder(RoleAssignment.Role.COMMS_LEAD),
        "exec_sponsor": holder(RoleAssignment.Role.EXECUTIVE_SPONSOR),
        "smes": [_person(u) for u in holders.get(RoleAssignment.Role.SME, [])],
        "impact_started_at": when(incident.impact_started_at),
        "detected_at": when(incident.detected_at),
        "declared_at": when(incident.declared_at),
        "acknowledged_at": when(incident.acknowledged_at),
        "mitigated_at": when(incident.mitigated_at),
        "resolved_at": when(incident.resolved_at),
        "now": when(now),
        "duration": spoken((incident.resolved_at or now) - started),
        "next_update_at": when(next_update_at(incident, Audience.INTERNAL, last["internal"])),
        "next_customer_update_at": when(
            next_update_at(incident, Audience.CUSTOMERS, last["customers"])
        ),
        "status_page_url": absolute_url(STATUS_PAGE_PATH),
        "incident_url": absolute_url(incident.get_absolute_url()),
    }
