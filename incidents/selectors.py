"""Read paths shared by the admin, the API and (later) reports. Each returns a queryset whose
page costs a fixed number of queries whatever the row count."""

from collections.abc import Iterable

from django.db.models import (
    Count,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)

from .models import (
    ChecklistItem,
    ChecklistProgress,
    Incident,
    IncidentService,
    RoleAssignment,
    Runbook,
)


def current_ic_subquery():
    return (
        RoleAssignment.objects.filter(
            incident=OuterRef("pk"),
            role=RoleAssignment.Role.INCIDENT_COMMANDER,
            relieved_at__isnull=True,
        )
        .order_by("-assigned_at")
        .values("user__username")[:1]
    )  # not the model's join-y default


def incident_list() -> QuerySet[Incident]:
    """Incidents with what a list row shows: severity, type, current IC, affected services.

    One query for the page plus one for its services (prefetch), at any size.
    """
    return (
        Incident.objects.select_related("severity", "incident_type")
        .annotate(ic_username=Subquery(current_ic_subquery()))
        .prefetch_related(
            Prefetch(
                "affected",
                queryset=IncidentService.objects.select_related("service").order_by(
                    "service__name"
                ),
            )
        )
    )


def incident_detail() -> QuerySet[Incident]:
    return incident_list().prefetch_related(
        Prefetch(
            "roles",
            queryset=RoleAssignment.objects.select_related("user", "assigned_by").order_by(
                "role", "-assigned_at"
            ),
        ),
        Prefetch("checklist", queryset=ChecklistItem.objects.select_related("done_by")),
    )


def checklist_progress(incident: Incident) -> ChecklistProgress:
    """In SQL; where the items are already loaded, ``checklist_progress_of(items)``."""
    counts = incident.checklist.aggregate(
        total=Count("id"), done=Count("id", filter=Q(done_at__isnull=False))
    )
    return ChecklistProgress(done=counts["done"], total=counts["total"])


def checklist_progress_of(items: Iterable[ChecklistItem]) -> ChecklistProgress:
    items = list(items)
    return ChecklistProgress(done=sum(1 for item in items if item.done), total=len(items))


def runbooks_for(incident: Incident) -> QuerySet[Runbook]:
    """Runbooks linked to the incident's services or its type."""
    service_ids = incident.affected.values("service_id")
    query = Q(services__in=service_ids)
    if incident.incident_type_id:
        query |= Q(incident_types=incident.incident_type_id)
    return Runbook.objects.filter(query).distinct().order_by("title")


def required_roles(incident: Incident) -> list[str]:
    """Roles an open incident should have filled: an Incident Commander always, and an
    Executive Sponsor where its severity's policy asks for one."""
    required = [RoleAssignment.Role.INCIDENT_COMMANDER]
    if incident.severity.executive_sponsor_required:
        required.append(RoleAssignment.Role.EXECUTIVE_SPONSOR)
    return required


def missing_roles(incident: Incident, assignments: Iterable[RoleAssignment]) -> list[str]:
    """Required roles nobody holds now; ``assignments`` are the incident's (prefetched) rows."""
    if not incident.is_open:
        return []
    held = {a.role for a in assignments if a.relieved_at is None}
    return [role for role in required_roles(incident) if role not in held]
