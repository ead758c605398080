"""The learning admin, one module per area; importing the package registers them all."""

from postmortems.admin import cost, drills  # noqa: F401
