from comms.admin import cadence  # noqa: F401
