"""/api/v1/oncall/now/ and /api/v1/schedules/ (read-only, with ``shifts``).

Reads need the same ``view`` permissions the role groups hold for the admin; times in query
parameters are ISO 8601 with an offset (or a plain date: midnight on the schedule's clock),
and a bad or missing one is a 400 naming the parameter.
"""

from datetime import UTC, datetime, time, timedelta

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.permissions import ActionPermissions
from ircore import api
from ircore.errors import RuleError

from ..models import Layer, Schedule
from ..permissions import VIEW_ONCALL, VIEW_PHONE, may
from ..rotation import to_utc
from ..selectors import on_call_now, schedule_list, schedule_shifts
from ..services._base import instant
from . import serializers as s

MAX_RANGE = timedelta(days=90)


def _time(request: Request, name: str, *, zone, required: bool) -> datetime | None:
    raw = request.query_params.get(name, "")
    if raw == "":
        if required:
            raise ValidationError({name: ["Required: an ISO 8601 time such as 2025-03-03T09:00Z."]})
        return None
    try:
        # A plain date first: Python reads "2025-03-03" as a (naive) datetime too.
        day = parse_date(raw) if len(raw) == 10 else None
        parsed = None if day else parse_datetime(raw)
    except ValueError:
        parsed = day = None
    if parsed is None and day is None:
        raise ValidationError({name: [f"'{raw[:40]}' is not an ISO 8601 date or time."]})
    if day is not None:
        parsed = to_utc(datetime.combine(day, time()), zone)
    if timezone.is_naive(parsed):
        raise ValidationError({name: ["Give the time with its offset (Z, +01:00 ...)."]})
    try:
        return instant(name, parsed)
    except (RuleError, OverflowError) as exc:
        raise ValidationError({name: [getattr(exc, "message", "Out of range.")]}) from None


class ViewOnCall(BasePermission):
    def has_permission(self, request, view) -> bool:
        return may(request.user, VIEW_ONCALL)


def _context(request: Request) -> dict:
    return {"request": request, "show_phone": may(request.user, VIEW_PHONE)}


class OnCallNowView(APIView):
    permission_classes = [ViewOnCall]
    metadata_class = None

    @extend_schema(
        summary="Who is on call now on every schedule and layer",
        parameters=[
            OpenApiParameter("at", OpenApiTypes.DATETIME, description="Another instant (ISO)."),
            OpenApiParameter("team", OpenApiTypes.STR, description="Only this team (slug)."),
        ],
        responses={200: s.ScheduleOnCallSerializer(many=True), 400: api.REFUSALS[400]},
    )
    def get(self, request: Request) -> Response:
        at = _time(request, "at", zone=UTC, required=False) or timezone.now()
        schedules = Schedule.objects.order_by("team__name", "name")
        team = request.query_params.get("team")
        if team is not None:
            if "\x00" in team or not Schedule.objects.filter(team__slug=team).exists():
                raise ValidationError({"team": [f"No schedule of a team '{team[:40]}'."]})
            schedules = schedules.filter(team__slug=team)
        rows = on_call_now(at=at, schedules=schedules)
        return Response(s.ScheduleOnCallSerializer(rows, many=True, context=_context(request)).data)


class Pagination(api.Pagination):
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_view(
    list=extend_schema(summary="List schedules with their layers"),
    retrieve=extend_schema(summary="A schedule with its layers"),
)
class ScheduleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ScheduleSerializer
    permission_classes = [ActionPermissions]
    pagination_class = Pagination
    filter_backends: list = []
    metadata_class = None
    lookup_value_regex = r"[0-9]{1,18}"
    action_verbs = dict.fromkeys(("list", "retrieve", "shifts"), VIEW_ONCALL)

    def get_queryset(self):
        return schedule_list().prefetch_related(
            Prefetch("layers", queryset=Layer.objects.order_by("level"))
        )

    @extend_schema(
        summary="Every layer's shifts and the final ones over [start, end)",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter(
                "end", OpenApiTypes.DATETIME, required=True, description="At most 90 days on."
            ),
        ],
        responses={200: s.ScheduleShiftsSerializer, **api.REFUSALS},
    )
    @action(detail=True, methods=["get"])
    def shifts(self, request: Request, pk: str) -> Response:
        schedule = self.get_object()
        start = _time(request, "start", zone=schedule.zone, required=True)
        end = _time(request, "end", zone=schedule.zone, required=True)
        if end <= start:
            raise ValidationError({"end": ["Must be after start."]})
        if end - start > MAX_RANGE:
            raise ValidationError({"end": [f"At most {MAX_RANGE.days} days after start."]})
        shifts = schedule_shifts(schedule=schedule, start=start, end=end)
        return Response(s.ScheduleShiftsSerializer(shifts, context=_context(request)).data)
