"""The comms admin, one module per area."""

from comms.admin import notices  # noqa: F401
