from comms.admin import templates  # noqa: F401
