"""Plain text and duration checks shared by the API, the admin and the policy importer."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from rest_framework import serializers

from ircore.api.serializers import KeyRelatedField
from ircore.models import Team
from ircore.validators import (
    DurationBoundsValidator,
    PlainTextValidator,
    duration_problem,
    plain_text_problem,
    validate_duration,
    validate_plain_text,
)


@pytest.mark.parametrize(
    ("value", "max_length", "reason"),
    [
        ("fine", None, None),
        ("é ✓ 日本", 6, None),
        ("a\x00b", None, "Null characters are not allowed."),
        ("a\ud800b", None, "Holds a lone surrogate (such as \\ud800), which is not text."),
        ("x" * 101, 100, "At most 100 characters (this has 101)."),
        ("x" * 100_001, 100_000, "At most 100,000 characters (this has 100,001)."),
        (12, None, "Expected text, got int."),
        (None, None, "Expected text, got NoneType."),
    ],
)
def test_plain_text_problem_names_the_reason(value, max_length, reason):
    assert plain_text_problem(value, max_length=max_length) == reason
    if reason is None:
        validate_plain_text(value, max_length=max_length)
    else:
        with pytest.raises(ValidationError) as raised:
            validate_plain_text(value, max_length=max_length)
        assert raised.value.messages == [reason]
        assert raised.value.error_list[0].code == "plain_text"


@pytest.mark.parametrize(
    ("value", "bounds", "reason"),
    [
        (timedelta(minutes=15), {}, None),
        (timedelta(0), {}, None),
        (timedelta(seconds=-1), {}, "Cannot be negative."),
        (timedelta(seconds=-1), {"minimum": None}, None),
        (timedelta(minutes=4), {"minimum": timedelta(minutes=5)}, "At least 5 minutes."),
        (timedelta(days=400), {"maximum": timedelta(days=365)}, "At most 365 days."),
        (timedelta(hours=25), {"maximum": timedelta(hours=24)}, "At most 1 day."),
        (timedelta(seconds=90), {"maximum": timedelta(seconds=61)}, "At most 61 seconds."),
        ("15m", {}, "Expected a duration, got str."),
    ],
)
def test_duration_problem_names_the_bound(value, bounds, reason):
    assert duration_problem(value, **bounds) == reason
    if reason is None:
        validate_duration(value, **bounds)
    else:
        with pytest.raises(ValidationError, match=reason):
            validate_duration(value, **bounds)


def test_validators_deconstruct_for_migrations():
    path, args, kwargs = PlainTextValidator(300).deconstruct()
    assert path == "ircore.validators.PlainTextValidator"
    assert (args, kwargs) == ((300,), {})
    assert PlainTextValidator(300) == PlainTextValidator(300) != PlainTextValidator(200)
    bounded = DurationBoundsValidator(maximum=timedelta(days=30))
    assert bounded.deconstruct()[2] == {"maximum": timedelta(days=30)}
    assert bounded == DurationBoundsValidator(timedelta(0), timedelta(days=30))


def test_key_lookups_refuse_what_no_database_can_look_up():
    """A key with NUL would fail the query itself on PostgreSQL: refused before it, by name."""
    field = KeyRelatedField(noun="team", slug_field="slug", queryset=Team.objects.all())
    for bad, reason in (("a\x00b", "Null characters"), ("a\ud800", "lone surrogate")):
        with pytest.raises(serializers.ValidationError, match=reason):
            field.to_internal_value(bad)
