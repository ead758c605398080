from ircore import hooks, roles


class CommsConfig(hooks.IRAppConfig):
    name = "comms"
    # Status page subscribers: managers see and remove them, support sees them.
    role_grants = {
        roles.INCIDENT_MANAGERS: {"subscriber": "view delete"},
        roles.SUPPORT: {"subscriber": "view"},
        roles.LEADERSHIP: {"subscriber": "view"},
    }

    def load_demo(self, *, people, services, now):
        from comms.status.demo import load_status_demo

        return load_status_demo(people=people, services=services, now=now)

    def ready(self) -> None:
        # The update cadence follows the incident's moves (declared, severity, status).
        from . import receivers_cadence  # noqa: F401

    def health_checks(self) -> dict[str, dict]:
        from .health import health_checks

        return health_checks()

    def incident_badges(self, incidents, *, now) -> dict[int, list[hooks.Badge]]:
        from .selectors import cadence_badges

        return cadence_badges(incidents, now=now)
