from datetime import datetime

from ircore import hooks
from ircore.roles import ALL, INCIDENT_MANAGERS, LEADERSHIP, RESPONDERS, SUPPORT

WORK_MODELS = ("incident", "incidentservice", "roleassignment", "checklistitem", "timelineentry")
# Detection: integrations (with their routing rules) are configuration; alerts are machine
# records nobody edits; maintenance windows are planned work.
INTEGRATION_MODELS = ("integration", "routingrule")


class IncidentsConfig(hooks.IRAppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    role_grants = {
        INCIDENT_MANAGERS: {
            **dict.fromkeys(WORK_MODELS, ALL),
            "runbook": ALL,
            "thresholdcrossing": "view",
            "perm:override_ic_certification": "incident",
            **dict.fromkeys(INTEGRATION_MODELS, ALL),
            "alert": "view",
            # A window is a record once made (alerts point at it): add and read only.
            "maintenancewindow": "add view",
        },
        # Responders work incidents: declare, update, take roles, tick, write the timeline.
        RESPONDERS: {
            "incident": "add change view",
            "incidentservice": "add change delete view",
            "roleassignment": "add change view",
            "checklistitem": "change view",
            "timelineentry": "add view",
            "runbook": "add change view",
            "thresholdcrossing": "view",
            # They read what the monitors sent and how it is routed (never a token: it is
            # shown once, to whoever creates or rotates it), and announce their own planned
            # work: a deploy's maintenance window is theirs to schedule.
            **dict.fromkeys(INTEGRATION_MODELS, "view"),
            "alert": "view",
            "maintenancewindow": "add view",
        },
        # Support reads incidents to write customer notices; it changes none of them.
        SUPPORT: {"incident": "view", "incidentservice": "view", "alert": "view"},
        LEADERSHIP: {
            **dict.fromkeys((*WORK_MODELS, "runbook", "thresholdcrossing"), "view"),
            "alert": "view",
        },
    }

    def ready(self) -> None:
        # Declares the incident verbs (ircore.verbs) before any admin or API reads them.
        from ircore.policy import register_section

        from . import permissions  # noqa: F401
        from .policy_integrations import SECTION

        register_section(SECTION)

    def load_demo(self, *, people: dict, services: dict, now: datetime) -> dict[str, int]:
        from .demo import load_demo

        return load_demo(people=people, services=services, now=now)

    def demo_has_own_data(self) -> bool:
        # Integrations may come from the policy file loaded just before the demo; alerts
        # and incidents are an install's own history.
        from .models import Alert, Incident

        return Incident.objects.exists() or Alert.objects.exists()

    def load_defaults(self) -> str:
        """Seed the runbooks drawn from the process documents, once (after demo services,
        so their links land)."""
        from django.conf import settings

        from .models import Runbook
        from .runbooks import load_runbooks

        if Runbook.objects.exists():
            return "Runbooks: already present; left as is."
        summary = load_runbooks(settings.BASE_DIR / "runbooks")
        return f"Runbooks: loaded {len(summary.created)} from runbooks/."
