"""Checks of text and durations that every app applies to what people and files send in.

Each check comes twice: a ``*_problem`` function that returns the reason in words (or None),
for code that builds its own error (a policy file naming the entry, a serializer naming the
field), and a Django validator raising ``ValidationError``, for model and form fields.

Why these: PostgreSQL refuses a NUL character in any text parameter (the statement fails,
a 500 if nobody checked), and neither database can store a lone surrogate (``"\\ud800"``,
valid JSON and a valid Python ``str``, but not text); an unbounded text or duration is a
page a million pixels wide or a deadline past the year 9999.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible


def _lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def plain_text_problem(value: object, *, max_length: int | None = None) -> str | None:
    """Why ``value`` is not storable plain text within ``max_length`` characters, or None."""
    if not isinstance(value, str):
        return f"Expected text, got {type(value).__name__}."
    if "\x00" in value:
        return "Null characters are not allowed."
    if _lone_surrogate(value):
        return "Holds a lone surrogate (such as \\ud800), which is not text."
    if max_length is not None and len(value) > max_length:
        return f"At most {max_length:,} characters (this has {len(value):,})."
    return None


@deconstructible
class PlainTextValidator:
    """Text without NUL or lone surrogates, at most ``max_length`` characters if given."""

    code = "plain_text"

    def __init__(self, max_length: int | None = None):
        self.max_length = max_length

    def __call__(self, value: object) -> None:
        problem = plain_text_problem(value, max_length=self.max_length)
        if problem:
            raise ValidationError(problem, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainTextValidator) and other.max_length == self.max_length


def validate_plain_text(value: object, *, max_length: int | None = None) -> None:
    PlainTextValidator(max_length)(value)


def _spoken(duration: timedelta) -> str:
    """A duration as people write it in a policy: "90 minutes", "3 days", "45 seconds"."""
    seconds = int(duration.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds and seconds % size == 0:
            n = seconds // size
            return f"{n:,} {unit}{'s' if n != 1 else ''}"
    return f"{seconds:,} second{'s' if seconds != 1 else ''}"


def duration_problem(
    value: object,
    *,
    minimum: timedelta | None = timedelta(0),
    maximum: timedelta | None = None,
) -> str | None:
    """Why ``value`` is not a duration within ``[minimum, maximum]``, or None. The default
    minimum refuses a negative duration; ``None`` leaves a bound open."""
    if not isinstance(value, timedelta):
        return f"Expected a duration, got {type(value).__name__}."
    if minimum is not None and value < minimum:
        if minimum == timedelta(0):
            return "Cannot be negative."
        return f"At least {_spoken(minimum)}."
    if maximum is not None and value > maximum:
        return f"At most {_spoken(maximum)}."
    return None


@deconstructible
class DurationBoundsValidator:
    """A duration within ``[minimum, maximum]`` (each optional; not negative by default)."""

    code = "duration_bounds"

    def __init__(
        self, minimum: timedelta | None = timedelta(0), maximum: timedelta | None = None
    ) -> None:
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, value: object) -> None:
        problem = duration_problem(value, minimum=self.minimum, maximum=self.maximum)
        if problem:
            raise ValidationError(problem, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DurationBoundsValidator) and (other.minimum, other.maximum) == (
            self.minimum,
            self.maximum,
        )


def validate_duration(
    value: object,
    *,
    minimum: timedelta | None = timedelta(0),
    maximum: timedelta | None = None,
) -> None:
    DurationBoundsValidator(minimum, maximum)(value)
