"""What the public may see, decided here and nowhere else.

- A notice is public when it is published, for customers (``Notice.objects.public()``), and
  about a real incident (never a drill).
- An incident is public when it has at least one public notice. Its public name is the
  subject of its first public notice: the incident's own title and summary are written by
  responders for responders and never leave the install.
- A component is a service marked ``public``, named by its ``public_name`` when set.

Each function costs a fixed number of queries, whatever the history holds.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.safestring import SafeString

from comms.models import Notice
from incidents.models import Incident, IncidentService
from ircore.markdown import render_markdown
from ircore.models import Service


def public_components() -> QuerySet[Service]:
    return Service.objects.filter(public=True).order_by("tier", "name")


def public_notices() -> QuerySet[Notice]:
    return Notice.objects.public().filter(incident__is_drill=False)


def public_incidents() -> QuerySet[Incident]:
    return Incident.objects.real().filter(Exists(public_notices().filter(incident=OuterRef("pk"))))


@dataclass
class PublicUpdate:
    id: int
    subject: str
    body: str
    published_at: datetime
    component_ids: list[int]

    @property
    def html(self) -> SafeString:
        """The body as the page shows it: Markdown, sanitised (``ircore.markdown``)."""
        return render_markdown(self.body)


@dataclass
class PublicIncident:
    """An incident as the public sees it: no title, summary, people or figures."""

    id: int
    name: str
    status: str
    status_label: str
    is_open: bool
    started_at: datetime  # the first public update
    resolved_at: datetime | None
    monitoring_at: datetime | None
    impact: str  # none|minor|major|critical: its public components' worst status
    component_ids: list[int] = field(default_factory=list)
    component_names: list[str] = field(default_factory=list)  # in component_ids' order
    updates: list[PublicUpdate] = field(default_factory=list)  # newest first

    @property
    def updated_at(self) -> datetime:
        return self.updates[0].published_at if self.updates else self.started_at


# Public wording of the lifecycle: "declared" is an internal step; the public sees the
# investigation begin.
PUBLIC_STATUS = {
    Incident.Status.DECLARED: ("investigating", "Investigating"),
    Incident.Status.INVESTIGATING: ("investigating", "Investigating"),
    Incident.Status.IDENTIFIED: ("identified", "Identified"),
    Incident.Status.MONITORING: ("monitoring", "Monitoring"),
    Incident.Status.RESOLVED: ("resolved", "Resolved"),
    Incident.Status.CLOSED: ("resolved", "Resolved"),
}


def public_incident_list(incidents: QuerySet[Incident]) -> list[PublicIncident]:
    """``incidents`` (already limited to public ones) as the public sees them: three queries
    (the incidents' public columns, their public notices with components, the affected public
    components)."""
    from comms.status.components import INDICATOR, worst

    rows = list(
        incidents.only("id", "status", "resolved_at", "mitigated_at").prefetch_related(
            Prefetch(
                "notices",
                queryset=public_notices()
                .only("id", "incident_id", "subject", "body", "published_at")
                .order_by("-published_at", "-id")
                .prefetch_related(
                    Prefetch(
                        "components",
                        queryset=Service.objects.filter(public=True).only(
                            "id", "name", "public_name"
                        ),
                    )
                ),
                to_attr="public_updates",
            ),
        )
    )
    affected: dict[int, list[tuple[int, str]]] = {}
    names: dict[int, str] = {}
    for incident_id, service_id, status, name, public_name in IncidentService.objects.filter(
        incident__in=[row.pk for row in rows], service__public=True
    ).values_list("incident_id", "service_id", "status", "service__name", "service__public_name"):
        affected.setdefault(incident_id, []).append((service_id, status))
        names[service_id] = public_name or name
    found = []
    for row in rows:
        for notice in row.public_updates:
            names.update((c.pk, c.display_public_name) for c in notice.components.all())
        updates = [
            PublicUpdate(
                id=n.pk,
                subject=n.subject,
                body=n.body,
                published_at=n.published_at,
                component_ids=[c.pk for c in n.components.all()],
            )
            for n in row.public_updates
        ]
        if not updates:
            continue
        code, label = PUBLIC_STATUS[row.status]
        services = affected.get(row.pk, [])
        ids = sorted({sid for sid, _ in services} | {c for u in updates for c in u.component_ids})
        found.append(
            PublicIncident(
                id=row.pk,
                name=updates[-1].subject,
                status=code,
                status_label=label,
                is_open=row.is_open,
                started_at=updates[-1].published_at,
                resolved_at=row.resolved_at if not row.is_open else None,
                monitoring_at=row.mitigated_at,
                impact=INDICATOR[worst(status for _, status in services)][0],
                component_ids=ids,
                component_names=[names[pk] for pk in ids],
                updates=updates,
            )
        )
    return found


def public_incident(pk: int) -> PublicIncident | None:
    found = public_incident_list(public_incidents().filter(pk=pk))
    return found[0] if found else None


def component_names(ids: Iterable[int]) -> list[str]:
    return [s.display_public_name for s in public_components().filter(pk__in=list(ids))]
