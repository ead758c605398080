from ircore import hooks


class CommsConfig(hooks.IRAppConfig):
    name = "comms"
