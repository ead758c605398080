from ircore import hooks
from ircore.roles import INCIDENT_MANAGERS, LEADERSHIP, RESPONDERS, SUPPORT


class CommsConfig(hooks.IRAppConfig):
    name = "comms"

    role_grants = {
        # The record of updates due is the clock's: everyone who works incidents reads it
        # (support writes the notices that settle it); nobody edits it.
        INCIDENT_MANAGERS: {"updatedue": "view"},
        RESPONDERS: {"updatedue": "view"},
        SUPPORT: {"updatedue": "view"},
        LEADERSHIP: {"updatedue": "view"},
    }

    def ready(self) -> None:
        # The update cadence follows the incident's moves (declared, severity, status).
        from . import receivers_cadence  # noqa: F401

    def health_checks(self) -> dict[str, dict]:
        from .health import health_checks

        return health_checks()

    def load_demo(self, **context) -> dict[str, int]:
        # The update cadence's part (other comms areas add theirs beside it).
        from .demo_cadence import load_demo as load_cadence_demo

        return load_cadence_demo(**context)

    def incident_badges(self, incidents, *, now) -> dict[int, list[hooks.Badge]]:
        from .selectors import cadence_badges

        return cadence_badges(incidents, now=now)
