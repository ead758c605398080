"""The base of every API list's FilterSet: one rule for parameters given without a value."""

from collections.abc import Mapping

import django_filters as df
from django.http import QueryDict


def _blank(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


def without_empty_values(data: Mapping) -> Mapping:
    """``data`` less its empty values: ``?severity=&status=open&status=`` reads as
    ``?status=open``. A blank value (spaces only) is empty too. A plain dict (a FilterSet
    built in code) loses its blank entries the same way."""
    if not isinstance(data, QueryDict):
        kept_values: dict = {}
        for key, value in data.items():
            if isinstance(value, list | tuple):
                value = [item for item in value if not _blank(item)]
            if not (_blank(value) or value == []):
                kept_values[key] = value
        return kept_values
    kept = QueryDict(mutable=True)
    for key in data:
        values = [value for value in data.getlist(key) if not _blank(value)]
        if values:
            kept.setlist(key, values)
    return kept


class FilterSet(df.FilterSet):
    """A FilterSet in which an empty parameter means "not filtered by it", for every filter:
    ``?severity=`` lists what no ``severity`` at all lists, as ``?service=`` always did. A
    form that submits every field, filled in or not, then works as the person meant.

    Any other value must be one the filter knows (an unknown key or slug is a 400 naming the
    parameter, not an empty page that reads like "no rows").
    """

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = without_empty_values(data)
        super().__init__(data, *args, **kwargs)
