"""The comms admin, one module per area; importing the package registers them all."""

from comms.admin import cadence, notices, status, templates  # noqa: F401
