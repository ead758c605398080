from ircore import hooks, roles


class CommsConfig(hooks.IRAppConfig):
    name = "comms"
    # Status page subscribers: managers see and remove them, support sees them.
    role_grants = {
        roles.INCIDENT_MANAGERS: {"subscriber": "view delete"},
        roles.SUPPORT: {"subscriber": "view"},
        roles.LEADERSHIP: {"subscriber": "view"},
    }
