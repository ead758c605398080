from ircore import hooks
from ircore.roles import ALL, INCIDENT_MANAGERS, LEADERSHIP, RESPONDERS, SUPPORT

# What each role group holds, one block per area of the app.
# Templates: incident managers write them; responders and support read and preview them
# against an incident (support drafts customer notices from them); leadership reads them.
TEMPLATE_GRANTS = {
    INCIDENT_MANAGERS: {"template": ALL, "perm:preview_template": "template"},
    RESPONDERS: {"template": "view", "perm:preview_template": "template"},
    SUPPORT: {"template": "view", "perm:preview_template": "template"},
    LEADERSHIP: {"template": "view"},
}
# The record of updates due is the clock's: everyone who works incidents reads it (support
# writes the notices that settle it); nobody edits it.
CADENCE_GRANTS = {
    INCIDENT_MANAGERS: {"updatedue": "view"},
    RESPONDERS: {"updatedue": "view"},
    SUPPORT: {"updatedue": "view"},
    LEADERSHIP: {"updatedue": "view"},
}
# Status page subscribers: managers see and remove them; support and leadership see them.
STATUS_GRANTS = {
    INCIDENT_MANAGERS: {"subscriber": "view delete"},
    SUPPORT: {"subscriber": "view"},
    LEADERSHIP: {"subscriber": "view"},
}


def merged(*blocks: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """One ``role_grants`` from each area's block."""
    grants: dict[str, dict[str, str]] = {}
    for block in blocks:
        for group, perms in block.items():
            grants.setdefault(group, {}).update(perms)
    return grants


class CommsConfig(hooks.IRAppConfig):
    name = "comms"
    verbose_name = "Communications"

    role_grants = merged(TEMPLATE_GRANTS, CADENCE_GRANTS, STATUS_GRANTS)

    def ready(self) -> None:
        # The verbs (ircore.verbs), the policy file's templates section, and the update
        # cadence following the incident's moves (declared, severity, status).
        from . import permissions, receivers_cadence  # noqa: F401
        from .policy import register as register_policy_sections

        register_policy_sections()

    def load_defaults(self) -> str:
        # The shipped templates, for an install whose policy predates them.
        from .services.templates import load_default_templates

        return load_default_templates()

    def health_checks(self) -> dict[str, dict]:
        from .health import health_checks

        return health_checks()

    def load_demo(self, **context) -> dict[str, int]:
        # Each area's demo rows: the overdue update of the open incident, the status page's
        # history and subscriber.
        from .demo_cadence import load_demo as load_cadence_demo
        from .status.demo import load_status_demo

        return {**load_cadence_demo(**context), **load_status_demo(**context)}

    def incident_badges(self, incidents, *, now) -> dict[int, list[hooks.Badge]]:
        from .selectors import cadence_badges

        return cadence_badges(incidents, now=now)
