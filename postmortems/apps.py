from datetime import datetime

from ircore import hooks
from ircore.roles import ALL, INCIDENT_MANAGERS, LEADERSHIP, RESPONDERS

# --- postmortems and action items (helper "postmortems") -----------------------------------
# Postmortems and their items are records: nobody deletes them (an item that will not be done
# is "won't do" with a reason). Leadership reads everything and changes nothing; Support
# has no part in the learning. Whose postmortem a responder may write: postmortems.permissions.
POSTMORTEM_GRANTS = {
    INCIDENT_MANAGERS: {
        "postmortem": "add change view",
        "perm:publish_postmortem": "postmortem",
        "perm:manage_postmortem": "postmortem",
        "postmortemtimelineentry": ALL,
        "actionitem": "add change view",
        "actionitemdeadline": ALL,
    },
    RESPONDERS: {
        "postmortem": "add change view",
        "postmortemtimelineentry": ALL,
        "actionitem": "add change view",
        "actionitemdeadline": "view",
    },
    LEADERSHIP: {
        "postmortem": "view",
        "postmortemtimelineentry": "view",
        "actionitem": "view",
        "actionitemdeadline": "view",
    },
}
# --- end postmortems and action items ---

# --- reports (helper "reports"): who reads the monthly and quarterly reports. ---
REPORT_GRANTS = {
    INCIDENT_MANAGERS: {"perm:view_incident_report": "reportmailing"},
    LEADERSHIP: {"perm:view_incident_report": "reportmailing"},
}


def _merged(*grants: dict) -> dict:
    merged: dict = {}
    for grant in grants:
        for group, per_model in grant.items():
            merged.setdefault(group, {}).update(per_model)
    return merged


# --- drills and cost of incidents (helper "drills") -------------------------------------
# Drill plans and cost rates are policy (managers write them, everyone who reads drills or
# costs reads them); drills and cost assessments are work records changed through the
# services. Leadership reads everything here and changes nothing; Support sees none of it.
DRILL_MODELS = ("drill", "drillplan", "drillscenario")
COST_MODELS = ("costassessment", "costline", "costrates", "servicecost")
DRILLS_GRANTS = {
    INCIDENT_MANAGERS: {
        "drill": "add change view",
        "perm:run_drill": "drill",
        "drillplan": ALL,
        "drillscenario": ALL,
        "costassessment": "add change view",
        "costline": "change view",
        "costrates": ALL,
        "servicecost": ALL,
    },
    RESPONDERS: {
        **dict.fromkeys(DRILL_MODELS, "view"),
        **dict.fromkeys(COST_MODELS, "view"),
    },
    LEADERSHIP: {
        **dict.fromkeys(DRILL_MODELS, "view"),
        **dict.fromkeys(COST_MODELS, "view"),
    },
}
# --- end drills and cost ----------------------------------------------------------------


class PostmortemsConfig(hooks.IRAppConfig):
    name = "postmortems"
    verbose_name = "Learning"

    role_grants = _merged(POSTMORTEM_GRANTS, REPORT_GRANTS, DRILLS_GRANTS)

    def ready(self) -> None:
        from incidents import signals
        from ircore.policy import register_section

        # Postmortems and action items: the verbs (ircore.verbs) before any admin or API reads
        # them; a resolution opens the postmortem its severity requires; the action_items
        # section of the policy file.
        from . import (
            permissions,  # noqa: F401
            permissions_drills,  # noqa: F401
            policy_cost,
            policy_drills,
            receivers,  # noqa: F401
        )
        from .policy import register as register_policy_sections

        # Reports: the report verb, and the monthly mail's beat task.
        from .reports import permissions as report_permissions  # noqa: F401
        from .reports import tasks as report_tasks  # noqa: F401
        from .services.cost import prefill_on_resolved

        register_policy_sections()
        # Drills and cost: the drills and cost sections of the policy file, and a cost
        # assessment pre-filled when an incident is resolved.
        register_section(policy_drills.SECTION)
        register_section(policy_cost.SECTION)
        signals.incident_resolved.connect(
            prefill_on_resolved, dispatch_uid="postmortems.cost_prefill_on_resolved"
        )

    def health_checks(self) -> dict[str, dict]:
        from .health import health_checks

        return health_checks()

    def load_demo(self, *, people: dict, services: dict, now: datetime) -> dict[str, int]:
        from .demo_drills import load_cost_demo, load_drill_demo
        from .demo_postmortems import load_demo_postmortems

        counts = load_demo_postmortems(people=people, services=services, now=now)
        counts.update(load_drill_demo(people=people, services=services, now=now))
        counts.update(load_cost_demo(people=people, services=services, now=now))
        return counts
