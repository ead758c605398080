"""Durations in admin forms and lists, written as in the policy file ("15m", "4h", "2d")."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models

from ircore.policy import DURATION_HINT, DurationTooLong, format_duration, parse_duration


class HumanDurationField(forms.Field):
    """A duration typed as in the policy file ("15m", "4h", "2d", "1h30m"); empty: none."""

    widget = forms.TextInput(attrs={"placeholder": "e.g. 15m, 4h, 2d", "size": 10})

    def __init__(self, *, max_length=None, **kwargs):
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if hasattr(value, "total_seconds"):
            return format_duration(value)
        return value

    def to_python(self, value):
        try:
            return parse_duration(value)
        except DurationTooLong as exc:
            raise ValidationError(f"{exc}.", code="invalid") from None
        except ValueError:
            raise ValidationError(
                f"“{value}” is not a duration ({DURATION_HINT}).", code="invalid"
            ) from None


DURATION_OVERRIDES = {models.DurationField: {"form_class": HumanDurationField}}


def duration_column(field: str, label: str):
    """A change-list column showing a duration field the way the policy file writes it."""

    @admin.display(description=label, ordering=field)
    def column(self, obj):
        return format_duration(getattr(obj, field)) or "-"

    return column
