"""The learning admin, one module per area; importing the package registers them all."""

from postmortems.admin import (
    actions,  # noqa: F401
    postmortems,  # noqa: F401
    reports,  # noqa: F401
)
