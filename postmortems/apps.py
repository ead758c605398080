from ircore import hooks


class PostmortemsConfig(hooks.IRAppConfig):
    name = "postmortems"
