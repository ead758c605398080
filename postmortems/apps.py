from datetime import datetime

from ircore import hooks
from ircore.roles import ALL, INCIDENT_MANAGERS, LEADERSHIP, RESPONDERS

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

    role_grants = DRILLS_GRANTS

    def ready(self) -> None:
        # --- drills and cost: verbs, the drills and cost sections of the policy file, and
        # a cost assessment pre-filled when an incident is resolved.
        from incidents import signals
        from ircore.policy import register_section

        from . import (
            permissions_drills,  # noqa: F401
            policy_cost,
            policy_drills,
        )
        from .services.cost import prefill_on_resolved

        register_section(policy_drills.SECTION)
        register_section(policy_cost.SECTION)
        signals.incident_resolved.connect(
            prefill_on_resolved, dispatch_uid="postmortems.cost_prefill_on_resolved"
        )
        # --- end drills and cost

    def load_demo(self, *, people: dict, services: dict, now: datetime) -> dict[str, int]:
        # --- drills and cost
        from .demo_drills import load_cost_demo, load_drill_demo

        counts = load_drill_demo(people=people, services=services, now=now)
        counts.update(load_cost_demo(people=people, services=services, now=now))
        # --- end drills and cost
        return counts
