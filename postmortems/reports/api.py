"""``GET /api/v1/reports/monthly/?month=YYYY-MM`` and ``/reports/quarterly/?quarter=YYYY-Qn``:
the report's figures as JSON (``postmortems.reports.serialize``), for Leadership and
incident managers (the ``view_reports`` verb). Read-only: any other method is 405."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ircore import api

from .build import build_report
from .periods import parse_month, parse_quarter
from .permissions import VIEW_REPORTS, may
from .serialize import report_dict


class ReadsReports(BasePermission):
    def has_permission(self, request, view) -> bool:
        return may(request.user, VIEW_REPORTS)


REPORT = OpenApiResponse(OpenApiTypes.OBJECT, description="The report's figures.")


class MonthlyReportView(APIView):
    permission_classes = [ReadsReports]
    metadata_class = None

    @extend_schema(
        summary="The monthly incident report's figures",
        parameters=[
            OpenApiParameter("month", OpenApiTypes.STR, required=True, description="YYYY-MM")
        ],
        responses={200: REPORT, 400: api.REFUSALS[400]},
    )
    def get(self, request: Request) -> Response:
        period = parse_month(request.query_params.get("month"))
        return Response(report_dict(build_report(period, now=timezone.now())))


class QuarterlyReportView(APIView):
    permission_classes = [ReadsReports]
    metadata_class = None

    @extend_schema(
        summary="The quarterly incident report's figures (the same figures over 3 months)",
        parameters=[
            OpenApiParameter("quarter", OpenApiTypes.STR, required=True, description="YYYY-Qn")
        ],
        responses={200: REPORT, 400: api.REFUSALS[400]},
    )
    def get(self, request: Request) -> Response:
        period = parse_quarter(request.query_params.get("quarter"))
        return Response(report_dict(build_report(period, now=timezone.now())))
