"""A component's status, and the page's overall state, derived from open real incidents.

The one rule: a public component's status is the worst ``IncidentService.status`` among the
open (``Incident.objects.open()``), real (``.real()``: drills never show) incidents that
affect it; with none it is operational, or under maintenance while one of its maintenance
windows is running. An incident reaches the components without a single notice published:
the page says something is wrong as soon as responders say so.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from incidents.alerts.models import MaintenanceWindow
from incidents.models import Incident, IncidentService

Status = IncidentService.Status
MAINTENANCE = "under_maintenance"

# Worst last. Every comparison of statuses goes through this order.
RANK = {
    Status.OPERATIONAL: 0,
    Status.DEGRADED: 1,
    Status.PARTIAL_OUTAGE: 2,
    Status.MAJOR_OUTAGE: 3,
}
# The names hosted status pages use (Statuspage's component statuses), for the JSON.
PUBLIC_CODE = {
    Status.OPERATIONAL: "operational",
    Status.DEGRADED: "degraded_performance",
    Status.PARTIAL_OUTAGE: "partial_outage",
    Status.MAJOR_OUTAGE: "major_outage",
    MAINTENANCE: "under_maintenance",
}
LABEL = {**dict(Status.choices), MAINTENANCE: "Under maintenance"}
# The page's indicator from its worst component, and what it says.
INDICATOR = {
    Status.OPERATIONAL: ("none", "All Systems Operational"),
    Status.DEGRADED: ("minor", "Degraded Performance"),
    Status.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    Status.MAJOR_OUTAGE: ("critical", "Major System Outage"),
}


@dataclass(frozen=True)
class ComponentState:
    status: str  # an IncidentService.Status value, or MAINTENANCE

    @property
    def code(self) -> str:
        return PUBLIC_CODE[self.status]

    @property
    def label(self) -> str:
        return LABEL[self.status]


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=RANK.__getitem__, default=Status.OPERATIONAL)


def open_statuses(service_ids: Iterable[int]) -> dict[int, str]:
    """``{service_id: worst status}`` over the open real incidents, for the services that have
    any: one query, one row per affected service (not per incident)."""
    rows = (
        IncidentService.objects.filter(
            incident__in=Incident.objects.real().open(), service_id__in=list(service_ids)
        )
        .order_by()  # the model's ordering by service name would join the services
        .values_list("service_id", "status")
        .distinct()
    )
    found: dict[int, list[str]] = {}
    for service_id, status in rows:
        found.setdefault(service_id, []).append(status)
    return {service_id: worst(statuses) for service_id, statuses in found.items()}


def maintenance_windows(services: QuerySet, now: datetime) -> QuerySet[MaintenanceWindow]:
    """The running and upcoming maintenance windows of ``services``."""
    return MaintenanceWindow.objects.filter(service__in=services, end__gt=now).order_by(
        "start", "id"
    )


def component_states(
    service_ids: Iterable[int], *, under_maintenance: Iterable[int] = ()
) -> dict[int, ComponentState]:
    """Every service of ``service_ids`` with its state (the module's rule)."""
    ids = list(service_ids)
    return states_from(open_statuses(ids), ids, under_maintenance=under_maintenance)


def states_from(
    statuses: dict[int, str], ids: Iterable[int], *, under_maintenance: Iterable[int] = ()
) -> dict[int, ComponentState]:
    """``component_states`` from ``open_statuses`` already read."""
    maintained = set(under_maintenance)
    states = {}
    for pk in ids:
        status = statuses.get(pk, Status.OPERATIONAL)
        if status == Status.OPERATIONAL and pk in maintained:
            status = MAINTENANCE
        states[pk] = ComponentState(status)
    return states


def overall(states: Iterable[ComponentState]) -> tuple[str, str]:
    """``(indicator, description)`` of the page: its worst component's."""
    states = list(states)
    status = worst(s.status for s in states if s.status != MAINTENANCE)
    indicator, description = INDICATOR[status]
    if status == Status.OPERATIONAL and any(s.status == MAINTENANCE for s in states):
        description = "Scheduled Maintenance In Progress"
    return indicator, description
