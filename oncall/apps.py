from ircore import hooks
from ircore.roles import ALL, INCIDENT_MANAGERS, LEADERSHIP, RESPONDERS, SUPPORT

# The rotation itself: managers shape it, everyone else reads it.
ROTATION_MODELS = ("schedule", "layer", "layerroster", "rostermember", "skip")
# Escalation policies: managers write them, everyone else reads them.
ESCALATION_MODELS = ("escalationpolicy", "escalationstep")


class OncallConfig(hooks.IRAppConfig):
    name = "oncall"
    verbose_name = "On call"

    role_grants = {
        INCIDENT_MANAGERS: {
            **dict.fromkeys(ROTATION_MODELS, ALL),
            "override": ALL,
            "shiftswaprequest": ALL,
            "perm:assign_shiftswaprequest": "shiftswaprequest",
            "feedtoken": "add view change",
            "perm:manage_feedtoken": "feedtoken",
            "handoffnotice": "view",
            **dict.fromkeys(ESCALATION_MODELS, ALL),
            "escalation": "view",
            "page": "view change",
            "perm:view_oncall_report": "page",
            "contactmethod": "view",
            "perm:manage_contactmethod": "contactmethod",
            "pageattempt": "view",
        },
        # Responders cover for each other (overrides), offer and take shifts, and subscribe
        # to their own calendar feed.
        RESPONDERS: {
            **dict.fromkeys(ROTATION_MODELS, "view"),
            "override": "add view",
            "shiftswaprequest": "add change view",
            "feedtoken": "add view change",
            "handoffnotice": "view",
            # They read the policies, and acknowledge pages (theirs and each other's).
            **dict.fromkeys(ESCALATION_MODELS, "view"),
            "escalation": "view",
            "page": "view change",
        },
        # Support needs to know whom to call; leadership reads. Neither changes anything.
        SUPPORT: {
            **dict.fromkeys(ROTATION_MODELS, "view"),
            "override": "view",
            **dict.fromkeys(ESCALATION_MODELS, "view"),
        },
        LEADERSHIP: {
            **dict.fromkeys(ROTATION_MODELS, "view"),
            "override": "view",
            "shiftswaprequest": "view",
            "handoffnotice": "view",
            **dict.fromkeys(ESCALATION_MODELS, "view"),
            "escalation": "view",
            "page": "view",
            "perm:view_oncall_report": "page",
        },
    }

    def ready(self) -> None:
        # Declares the on-call verbs (ircore.verbs) before any admin or API reads them.
        # Paging follows the incident's moves (declared, acknowledged, status, severity).
        from . import (
            permissions,  # noqa: F401
            receivers,  # noqa: F401
        )
        from .policy import register as register_policy_sections

        # The schedules and escalation sections of the policy file.
        register_policy_sections()

    def health_checks(self) -> dict[str, dict]:
        from .health import health_checks

        return health_checks()

    def load_demo(self, **context) -> dict[str, int]:
        from .demo import load_demo

        return load_demo(**context)

    def demo_has_own_data(self) -> bool:
        from .models import Schedule

        return Schedule.objects.exists()
