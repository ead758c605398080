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
