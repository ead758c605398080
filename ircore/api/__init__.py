"""API plumbing shared by every app: errors as 4xx bodies that name the field, and the
pagination, parser and list filters that turn bad input into such a 4xx instead of a 500.

Every error body has one shape, ``{"field": ["reason", ...]}``, with ``"detail"`` when no one
field is at fault (a 401, a 404, a body that is not an object), so a client reads every
refusal the same way.
"""

from collections.abc import Mapping
from datetime import UTC

import django_filters as df
from django import forms
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import filters, parsers
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import RuleError
from ..pagination import COUNT_CAP, CappedCountPaginator
from .filtersets import FilterSet, without_empty_values

__all__ = [
    "PARSERS",
    "REFUSALS",
    "FilterSet",
    "IsoDateTimeFilter",
    "JSONParser",
    "Pagination",
    "StrictBooleanFilter",
    "StrictOrderingFilter",
    "error_body",
    "exception_handler",
    "without_empty_values",
]

# --- errors --------------------------------------------------------------------------------

ERROR_BODY = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
REFUSALS = {
    400: OpenApiResponse(ERROR_BODY, description="Bad input: each field with its reasons."),
    404: OpenApiResponse(ERROR_BODY, description="No such row (or no such page)."),
    409: OpenApiResponse(ERROR_BODY, description="Not allowed from the current state."),
}


def responds(body, code: int = 200, *, refusals: Mapping = REFUSALS, **kwargs):
    """The schema of an action: its answer and the refusals every verb may give."""
    return extend_schema(responses={code: body, **refusals}, **kwargs)


class ValidatedInput:
    """For the viewsets whose verbs call a service: the request body, checked by a serializer
    (a 400 naming each field otherwise), as the service's keyword arguments."""

    def _input(self, serializer_class, partial: bool = False) -> dict:
        serializer = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


def _messages(value) -> list[str]:
    """Any DRF error value as a flat list of strings. Nested errors (an item of a list, a
    field of a nested object) keep their position as a prefix: ``"2: Not a valid string."``."""
    if isinstance(value, Mapping):
        return [f"{key}: {message}" for key, inner in value.items() for message in _messages(inner)]
    if isinstance(value, list | tuple):
        return [message for inner in value for message in _messages(inner)]
    return [str(value)]


def error_body(data) -> dict[str, list[str]]:
    if isinstance(data, Mapping):
        body: dict[str, list[str]] = {}
        for key, value in data.items():
            name = "detail" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
            body.setdefault(name, []).extend(_messages(value))
        return body
    return {"detail": _messages(data)}


def exception_handler(exc, context):
    if isinstance(exc, RuleError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(body, status=400)
    if isinstance(exc, RequestDataTooBig):
        # Raised while DRF reads the body; left alone, Django answers with an HTML page.
        return Response({"detail": ["The request body is too large."]}, status=413)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = error_body(response.data)
    return response


# --- request bodies ------------------------------------------------------------------------


def _lone_surrogate(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_lone_surrogate(k) or _lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_lone_surrogate(v) for v in value)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's parser, refusing with a 400 what it lets through into a 500:

    - a body nested deeper than Python's recursion limit (a few kilobytes of ``[``);
    - a lone surrogate escape such as ``"\\ud800"``: valid JSON, but not text. Neither
      database can store or even look it up, and an error message quoting it (an unknown
      key, an unknown choice) cannot be encoded as the response.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            if _lone_surrogate(data):
                raise ParseError(
                    "JSON parse error - a string holds a lone surrogate (such as \\ud800), "
                    "which is not text."
                )
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        return data


PARSERS = [JSONParser, parsers.FormParser, parsers.MultiPartParser]


# --- pagination ----------------------------------------------------------------------------


def _whole_number(raw: str) -> int | None:
    """A positive whole number written in ASCII digits, or None. Python's int() also reads
    '１２' and refuses strings over 4,300 digits with a ValueError: neither reaches it, and
    a number past 10**18 counts as 10**18 (more pages or rows than there will ever be)."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    number = int(raw) if len(raw) <= 18 else 10**18
    return number if number > 0 else None


class Pagination(PageNumberPagination):
    """Page numbers that are not numbers are a 400 naming ``page`` (DRF answers 404 "Invalid
    page." for both that and a page past the end); a page past the end is a 404 naming it.

    Lists never count a whole big table (``ircore.pagination``): ``count`` is exact up to
    ``COUNT_CAP`` (10,000) matches, and ``count_is_exact`` says so. Past that it is the
    database's estimate (an unfiltered list on PostgreSQL) or the cap, and pages run up to it:
    narrow the filter to reach rows beyond.
    """

    django_paginator_class = CappedCountPaginator

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters

    def get_page_size(self, request) -> int | None:
        param = self.page_size_query_param
        raw = request.query_params.get(param, "").strip() if param else ""
        if raw == "":  # empty means not given, as for every list filter
            return self.page_size
        size = _whole_number(raw)
        if size is None:
            raise ValidationError({param: [f"'{raw}' is not a whole number of 1 or more."]})
        return min(size, self.max_page_size) if self.max_page_size else size

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param, "").strip() or 1
        return paginator.num_pages if raw in self.last_page_strings else raw

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data = {
            "count": response.data["count"],
            "count_is_exact": self.page.paginator.count_is_exact,
            **{key: value for key, value in response.data.items() if key != "count"},
        }
        return response

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["required"] = ["count", "count_is_exact", "results"]
        described["properties"] = {
            "count": {
                **described["properties"]["count"],
                "description": "Matches: exact when count_is_exact, else the database's "
                f"estimate or the {COUNT_CAP:,} counted (pages run up to it).",
            },
            "count_is_exact": {"type": "boolean"},
            **{k: v for k, v in described["properties"].items() if k != "count"},
        }
        return described

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param, "").strip()
        if raw not in ("", *self.last_page_strings) and _whole_number(raw) is None:
            raise ValidationError(
                {self.page_query_param: [f"'{raw}' is not a page number (1, 2, 3 …)."]}
            )
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise NotFound({self.page_query_param: [f"There is no page {raw}."]}) from None


# --- list filters --------------------------------------------------------------------------


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or 1/0, yes/no); anything else is an error, where Django's
    NullBooleanField would quietly read it as "no filter"."""

    widget = forms.TextInput  # NullBooleanSelect would turn unknown words into None first
    WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.WORDS[str(value).strip().lower()]
        except KeyError:
            # The value goes in params: django-filter %-formats the message, so a '%' typed
            # into the message itself would break the formatting (a 500).
            raise forms.ValidationError(
                "'%(value)s' is not true or false.", code="invalid", params={"value": value}
            ) from None


class StrictBooleanFilter(df.BooleanFilter):
    field_class = StrictBooleanField


class IsoDateTimeField(df.fields.IsoDateTimeField):
    """An ISO 8601 time, handed to the database in UTC. As given, it could fail there:
    PostgreSQL refuses offsets beyond ±15:59 (ISO allows up to ±23:59), and a time whose UTC
    equivalent does not exist (year 1 at +05:00, year 9999 at -05:00) fails SQLite's
    conversion."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(
                "This time is out of range once converted to UTC.", code="overflow"
            ) from None


class IsoDateTimeFilter(df.IsoDateTimeFilter):
    field_class = IsoDateTimeField


class StrictOrderingFilter(filters.OrderingFilter):
    """DRF's ``?ordering=`` over the view's ``ordering_fields`` only; an unknown field is a 400
    naming the parameter (DRF drops it silently, and without ``ordering_fields`` it would
    accept any serializer source, such as ``get_tier_display``, which then fails in SQL)."""

    def get_schema_operation_parameters(self, view):
        allowed = list(view.ordering_fields)
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Comma-separated fields to order by; prefix '-' to reverse.",
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "enum": [*allowed, *(f"-{f}" for f in allowed)]},
                },
                "style": "form",
                "explode": False,
            }
        ]

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if not params:
            return self.get_default_ordering(view)
        terms = [term.strip() for term in params.split(",")]
        allowed = list(view.ordering_fields)
        unknown = [term for term in terms if term.removeprefix("-") not in allowed]
        if unknown:
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot order by '{term}'; use one of {', '.join(allowed)} "
                        "(prefix '-' to reverse)."
                        for term in unknown
                    ]
                }
            )
        return [*terms, "pk"]
