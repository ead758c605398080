"""The learning admin, one module per area; importing the package registers them all."""

from postmortems.admin import (  # noqa: F401
    actions,
    cost,
    drills,
    postmortems,
    reports,
)
