"""Errors that services raise when a rule refuses a change.

The admin shows them as error messages, the API as 4xx bodies naming the field,
commands as a non-zero exit. Raising one inside the service's transaction rolls
everything back, so a refused change writes nothing.
"""


class RuleError(Exception):
    """A request that breaks a rule (bad value, missing field): HTTP 400."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field or "detail": [self.message]}


class ConflictError(RuleError):
    """A move the current state does not allow (e.g. declared -> closed): HTTP 409."""

    status_code = 409
