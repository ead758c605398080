from ircore import hooks


class OncallConfig(hooks.IRAppConfig):
    name = "oncall"
