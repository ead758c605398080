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


# --- end reports ---


class PostmortemsConfig(hooks.IRAppConfig):
    name = "postmortems"
    verbose_name = "Learning"

    role_grants = _merged(POSTMORTEM_GRANTS, REPORT_GRANTS)

    def ready(self) -> None:
        # --- postmortems and action items: the verbs (ircore.verbs) before any admin or API
        # reads them; a resolution opens the postmortem its severity requires; the
        # action_items section of the policy file. ---
        from . import (
            permissions,  # noqa: F401
            receivers,  # noqa: F401
        )
        from .policy import register as register_policy_sections

        register_policy_sections()
        # --- end postmortems and action items ---
        # --- reports: the report verb, and the monthly mail's beat task. ---
        from .reports import permissions as report_permissions  # noqa: F401
        from .reports import tasks as report_tasks  # noqa: F401

        # --- end reports ---

    # --- postmortems and action items: the demo postmortem ---
    def load_demo(self, **context) -> dict[str, int]:
        from .demo_postmortems import load_demo_postmortems

        return load_demo_postmortems(**context)
