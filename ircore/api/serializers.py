"""Serializer helpers every app's API uses: strict request bodies (an unknown key is a 400
naming it), rows named by key or slug with errors that name what is unknown, and the
not-in-the-future check. (DRF's CharField already refuses NUL and lone surrogates.) Write
serializers built on these only check the shape of a request; the app's services hold the
rules."""

from collections.abc import Mapping
from datetime import datetime

from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from ..validators import plain_text_problem


class KeyRelatedField(serializers.SlugRelatedField):
    """A row named by its key or slug; an unknown one is "Unknown severity 'SEV-9'."."""

    def __init__(self, noun: str, **kwargs):
        self.noun = noun
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(
                f"Expected a {self.noun} {self.slug_field} (a string), got {type(data).__name__}."
            )
        # PostgreSQL refuses NUL in any string parameter: the lookup itself would fail.
        problem = plain_text_problem(data)
        if problem:
            raise serializers.ValidationError(problem)
        found = self.get_queryset().filter(**{self.slug_field: data}).first()
        if found is None:
            raise serializers.ValidationError(f"Unknown {self.noun} '{data}'.")
        return found


class SlugListField(serializers.ListField):
    """A list of slugs resolved in one query; unknown slugs are named in the error."""

    child = serializers.CharField(max_length=100)

    def __init__(self, *, queryset, noun: str, slug_field: str = "slug", **kwargs):
        self.queryset, self.noun, self.slug_field = queryset, noun, slug_field
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        slugs = list(dict.fromkeys(super().to_internal_value(data)))
        found = {
            getattr(row, self.slug_field): row
            for row in self.queryset.filter(**{f"{self.slug_field}__in": slugs})
        }
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            names = ", ".join(f"'{slug}'" for slug in missing)
            raise serializers.ValidationError(
                f"Unknown {self.noun}{'s' if len(missing) > 1 else ''} {names}."
            )
        return [found[slug] for slug in slugs]


def not_future(value: datetime | None) -> datetime | None:
    """A ``validate_<field>`` for a time that has already happened."""
    if value is not None and value > timezone.now():
        raise serializers.ValidationError("Cannot be in the future.")
    return value


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo or a read-only field is a 400 naming it,
    not a silently ignored change. ``redirect`` points a field at the action that sets it."""

    redirect: Mapping[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = [name for name, field in self.fields.items() if not field.read_only]
            unknown = [key for key in data if key not in writable]
            if unknown:
                allowed = ", ".join(writable)
                raise serializers.ValidationError(
                    {
                        key: [self.redirect.get(key) or f"Unknown field; use one of: {allowed}."]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)


class StrictSerializerSchema(OpenApiSerializerExtension):
    """The request schema of a strict serializer says what the server enforces: no keys
    besides its fields, and no empty string where blank is refused."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        for name, field in self.target.fields.items():
            prop = schema.get("properties", {}).get(name)
            blank_refused = isinstance(field, KeyRelatedField) or (
                isinstance(field, serializers.CharField) and not field.allow_blank
            )
            if prop is not None and "$ref" not in prop and blank_refused:
                prop.setdefault("minLength", 1)
        return schema
