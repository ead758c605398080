from comms.admin import cadence, templates  # noqa: F401
