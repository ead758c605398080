from ircore import hooks


class CommsConfig(hooks.IRAppConfig):
    name = "comms"

    def ready(self) -> None:
        # The update cadence follows the incident's moves (declared, severity, status).
        from . import receivers_cadence  # noqa: F401

    def health_checks(self) -> dict[str, dict]:
        from .health import health_checks

        return health_checks()

    def incident_badges(self, incidents, *, now) -> dict[int, list[hooks.Badge]]:
        from .selectors import cadence_badges

        return cadence_badges(incidents, now=now)
