from postmortems.admin import reports  # noqa: F401
