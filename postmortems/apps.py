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


def merged(*grants: dict) -> dict:
    """The role grants of each area of the app, merged per group and model."""
    out: dict = {}
    for grant in grants:
        for group, per_model in grant.items():
            out.setdefault(group, {}).update(per_model)
    return out


class PostmortemsConfig(hooks.IRAppConfig):
    name = "postmortems"
    verbose_name = "Learning"

    role_grants = merged(POSTMORTEM_GRANTS)

    def ready(self) -> None:
        # --- postmortems and action items ---
        # The verbs (ircore.verbs) before any admin or API reads them; a resolution opens
        # the postmortem its severity requires; the action_items section of the policy file.
        from . import (
            permissions,  # noqa: F401
            receivers,  # noqa: F401
        )
        from .policy import register as register_policy_sections

        register_policy_sections()

    def load_demo(self, **context) -> dict[str, int]:
        from .demo_postmortems import load_demo_postmortems

        return load_demo_postmortems(**context)
