"""The base of every API list's FilterSet: one rule for parameters given without a value."""

import django_filters as df
from django.http import QueryDict


def without_empty_values(data: QueryDict) -> QueryDict:
    """``data`` less its empty values: ``?severity=&status=open&status=`` reads as
    ``?status=open``. A blank value (spaces only) is empty too."""
    kept = QueryDict(mutable=True)
    for key in data:
        values = [value for value in data.getlist(key) if value.strip()]
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
