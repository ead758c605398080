"""The update cadence's part of the demo (``CommsConfig.load_demo`` calls ``load_demo``):
the open demo incident gets a Communications Lead and its updates due as the declaration
planned them, then the clock runs at ``now``. It was declared 20 minutes ago at the second
level (SEV-2 in the default policy: internal updates every 15 minutes), nobody has published
an update, so the first screen shows the internal update overdue by 5 minutes and the
timeline the reminder the Communications Lead got.
"""

from datetime import datetime, timedelta

from incidents import services as incidents
from incidents.models import Incident, RoleAssignment

from .models import UpdateDue
from .services.cadence import cadence_reconcile


def load_demo(*, people: dict, services: dict, now: datetime) -> dict[str, int]:
    incident = Incident.objects.open().real().order_by("-declared_at", "-id").first()
    if incident is None:
        return {"updates due": 0}
    lead, by = people.get("sam"), people.get("maria")
    if lead is not None and by is not None:
        incidents.role_assign(
            incident=incident,
            role=RoleAssignment.Role.COMMS_LEAD,
            user=lead,
            by=by,
            now=incident.declared_at + timedelta(minutes=3),
        )
    # As the declaration's receiver planned it then, and as the beat finds it now.
    cadence_reconcile(incident_id=incident.pk, now=incident.declared_at, wait=True)
    cadence_reconcile(incident_id=incident.pk, now=now, wait=True)
    return {"updates due": UpdateDue.objects.filter(incident=incident).count()}
