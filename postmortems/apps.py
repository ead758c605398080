from ircore import hooks
from ircore.roles import INCIDENT_MANAGERS, LEADERSHIP

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

    role_grants = _merged(REPORT_GRANTS)

    def ready(self) -> None:
        # --- reports: the report verb, and the monthly mail's beat task. ---
        from .reports import permissions as report_permissions  # noqa: F401
        from .reports import tasks as report_tasks  # noqa: F401
        # --- end reports ---
