from datetime import datetime

from ircore import hooks
from ircore.roles import ALL, INCIDENT_MANAGERS, LEADERSHIP, LEGAL_REVIEWERS, RESPONDERS, SUPPORT

# --- notices (helper "notices") ---------------------------------------------------------------
# Drafting is for everyone who writes (support, responders, managers); approving and
# publishing for managers and, on their incident, the Communications Lead (lead_notice_comms);
# the legal approval for legal reviewers. See comms.permissions.
NOTICE_GRANTS = {
    INCIDENT_MANAGERS: {
        "notice": "add change delete view",
        "perm:approve_notice": "notice",
        "perm:publish_notice": "notice",
        "perm:lead_notice_comms": "notice",
        "noticecomment": "view",
        "internalroute": ALL,
    },
    RESPONDERS: {
        "notice": "add change delete view",
        "perm:lead_notice_comms": "notice",
        "noticecomment": "view",
        "internalroute": "view",
    },
    SUPPORT: {"notice": "add change delete view", "noticecomment": "view"},
    LEADERSHIP: {"notice": "view", "noticecomment": "view", "internalroute": "view"},
    LEGAL_REVIEWERS: {
        "notice": "view",
        "perm:legal_approve_notice": "notice",
        "noticecomment": "view",
    },
}

# --- templates (helper "templates") -----------------------------------------------------------
# Incident managers write the templates; responders and support read them and preview them
# against an incident (support drafts customer notices from them); leadership reads them.
TEMPLATE_GRANTS = {
    INCIDENT_MANAGERS: {"template": ALL, "perm:preview_template": "template"},
    RESPONDERS: {"template": "view", "perm:preview_template": "template"},
    SUPPORT: {"template": "view", "perm:preview_template": "template"},
    LEADERSHIP: {"template": "view"},
}

# --- update cadence (helper "cadence") ---------------------------------------------------------
# The record of updates due is the clock's: everyone who works incidents reads it (support
# writes the notices that settle it); nobody edits it.
CADENCE_GRANTS = {
    INCIDENT_MANAGERS: {"updatedue": "view"},
    RESPONDERS: {"updatedue": "view"},
    SUPPORT: {"updatedue": "view"},
    LEADERSHIP: {"updatedue": "view"},
}

# --- status page (helper "status") ------------------------------------------------------------
# Status page subscribers: managers see and remove them, support sees them.
STATUS_GRANTS = {
    INCIDENT_MANAGERS: {"subscriber": "view delete"},
    SUPPORT: {"subscriber": "view"},
    LEADERSHIP: {"subscriber": "view"},
}


def _merged(*grants: dict) -> dict:
    """Each area's grants, one dict per role group."""
    out: dict[str, dict[str, str]] = {}
    for area in grants:
        for group, per_model in area.items():
            out.setdefault(group, {}).update(per_model)
    return out


class CommsConfig(hooks.IRAppConfig):
    name = "comms"
    verbose_name = "Communications"

    role_grants = _merged(TEMPLATE_GRANTS, NOTICE_GRANTS, CADENCE_GRANTS, STATUS_GRANTS)

    def ready(self) -> None:
        # Declares the comms verbs (ircore.verbs) before any admin or API reads them.
        # The update cadence follows the incident's moves (declared, severity, status).
        from . import (
            checks,  # noqa: F401  (the status page's settings)
            permissions,  # noqa: F401
            receivers_cadence,  # noqa: F401
        )
        from .policy import register as register_policy_sections

        # The templates section of the policy file.
        register_policy_sections()

    def load_defaults(self) -> str:
        # Templates: the shipped set for an install whose policy predates them.
        from .services.templates import load_default_templates

        return load_default_templates()

    def load_demo(self, *, people: dict, services: dict, now: datetime) -> dict[str, int]:
        # Each area's part: the open demo incident's Communications Lead and updates due
        # (helper "cadence"), then its notices (helper "notices": a customer notice published
        # after the cadence's clock ran, so the internal update stays overdue). The status
        # page's part: a resolved payout delay ten days ago with its published updates, a
        # maintenance window later this week, and a confirmed subscriber.
        from .demo_cadence import load_demo as load_cadence
        from .demo_notices import load_demo as load_notices
        from .status.demo import load_status_demo

        counts = load_cadence(people=people, services=services, now=now)
        counts.update(load_notices(people=people, services=services, now=now))
        counts.update(load_status_demo(people=people, services=services, now=now))
        return counts

    def health_checks(self) -> dict[str, dict]:
        from .health import health_checks

        return health_checks()

    def incident_badges(self, incidents, *, now) -> dict[int, list[hooks.Badge]]:
        from .selectors import cadence_badges

        return cadence_badges(incidents, now=now)
