"""``/status.json``: the page's summary in the shape hosted status pages give theirs
(Statuspage's ``summary.json``: ``page``, ``status``, ``components``, ``incidents``,
``scheduled_maintenances``), built from the same ``page.build`` as the HTML page."""

from comms.status import links
from comms.status.page import Page
from comms.status.selectors import PublicIncident


def _time(value) -> str | None:
    return value.isoformat() if value else None


def _incident(incident: PublicIncident, names: dict[int, str]) -> dict:
    return {
        "id": str(incident.id),
        "name": incident.name,
        "status": incident.status,
        "impact": incident.impact,
        "created_at": _time(incident.started_at),
        "updated_at": _time(incident.updated_at),
        "started_at": _time(incident.started_at),
        "monitoring_at": _time(incident.monitoring_at),
        "resolved_at": _time(incident.resolved_at),
        "shortlink": links.incident_url(incident.id),
        "incident_updates": [
            {
                "id": str(update.id),
                "incident_id": str(incident.id),
                "name": update.subject,
                "body": update.body,
                "created_at": _time(update.published_at),
                "updated_at": _time(update.published_at),
                "display_at": _time(update.published_at),
                "affected_components": [
                    {"id": str(pk), "name": names[pk]} for pk in update.component_ids if pk in names
                ],
            }
            for update in incident.updates
        ],
        "components": [
            {"id": str(pk), "name": names[pk]} for pk in incident.component_ids if pk in names
        ],
    }


def summary(page: Page) -> dict:
    names = {c.id: c.name for c in page.components}
    return {
        "page": {
            "name": page.name,
            "url": links.page_url(),
            "time_zone": "Etc/UTC",
            "updated_at": _time(page.now),
        },
        "status": {"indicator": page.indicator, "description": page.description},
        "components": [
            {
                "id": str(c.id),
                "name": c.name,
                "status": c.state.code,
                "position": position,
                "uptime_90_days": c.uptime,
            }
            for position, c in enumerate(page.components, start=1)
        ],
        "incidents": [_incident(i, names) for i in page.active],
        "scheduled_maintenances": [
            {
                "id": str(m.id),
                "name": m.name,
                "status": "in_progress" if m.in_progress else "scheduled",
                "impact": "maintenance",
                "scheduled_for": _time(m.start),
                "scheduled_until": _time(m.end),
                "incident_updates": [],
                "components": [
                    {"id": str(pk), "name": name}
                    for pk, name in zip(m.component_ids, m.component_names, strict=True)
                ],
            }
            for m in page.maintenance
        ],
    }
