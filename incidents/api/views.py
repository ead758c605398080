"""The incidents viewset: /api/v1/incidents/ and its actions.

Thin by design: a serializer checks the request's shape, one service function does the
change (and refuses what breaks a rule, rolling back), and the answer is the incident as the
detail selector reads it. Incidents are records: there is no PUT and no DELETE.
"""

from django.db.models import Model, QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ircore import api
from ircore.errors import RuleError
from ircore.models import Service

from .. import permissions as verbs
from .. import services
from ..models import ChecklistItem, Incident, RoleAssignment, TimelineEntry
from ..selectors import incident_detail, incident_list
from . import serializers as s
from .filters import IncidentFilter, TimelineFilter
from .permissions import ActionPermissions

# Every refusal: {"field": ["reason", ...]} ("detail" when no one field is at fault).
REFUSALS = api.REFUSALS


_responds = api.responds


def _row_or_404(queryset: QuerySet, pk: str, **filters) -> Model:
    """The row with this id (digits, from the URL) among ``queryset``. An id too long for any
    integer column is no row: Django's int() would raise on one of over 4,300 digits."""
    if len(pk) > 18:
        raise Http404
    row = queryset.filter(pk=int(pk), **filters).first()
    if row is None:
        raise Http404
    return row


class Pagination(api.Pagination):
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_view(
    list=extend_schema(
        summary="List incidents",
        description="Newest first by default.",
        responses={
            200: s.IncidentListSerializer(many=True),
            400: REFUSALS[400],
            404: REFUSALS[404],
        },
    ),
    retrieve=extend_schema(
        summary="An incident with its services, roles and checklist",
        responses={200: s.IncidentDetailSerializer, 404: REFUSALS[404]},
    ),
    create=extend_schema(
        summary="Declare an incident",
        request=s.IncidentDeclareSerializer,
        responses={201: s.IncidentDetailSerializer, 400: REFUSALS[400]},
    ),
    partial_update=extend_schema(
        summary="Edit details, correct lifecycle times, record impact",
        request=s.IncidentUpdateSerializer,
        responses={200: s.IncidentDetailSerializer, 400: REFUSALS[400], 404: REFUSALS[404]},
    ),
)
class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    api.ValidatedInput,
    viewsets.GenericViewSet,
):
    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z0-9-]+"
    permission_classes = [ActionPermissions]
    filter_backends = [DjangoFilterBackend]
    filterset_class = IncidentFilter
    pagination_class = Pagination
    parser_classes = api.PARSERS
    # No OPTIONS descriptions (405): they would describe writes to people who may not make
    # them. The schema at /api/schema/ documents the API.
    metadata_class = None
    # Each action is a verb of the one table (incidents.permissions): the admin's buttons
    # ask the same entries, so the two cannot disagree on who may do what.
    action_verbs = {
        "list": verbs.VIEW_INCIDENT,
        "retrieve": verbs.VIEW_INCIDENT,
        "metadata": verbs.VIEW_INCIDENT,
        "timeline": verbs.VIEW_TIMELINE,
        "create": verbs.DECLARE,
        "partial_update": verbs.EDIT_DETAILS,
        "acknowledge": verbs.ACKNOWLEDGE,
        "set_status": verbs.MOVE,
        "change_severity": verbs.CHANGE_SEVERITY,
        "security_checkpoint": verbs.MARK_CHECKPOINT,
        "assign_role": verbs.ASSIGN_ROLE,
        "relieve_role": verbs.RELIEVE_ROLE,
        "tick": verbs.TICK,
        "notes": verbs.NOTE,
        "set_service": verbs.SET_SERVICE,
        "remove_service": verbs.REMOVE_SERVICE,
    }

    # Model names a service may blame, as this API calls them.
    api_names = {"incident_type": "type", "is_drill": "drill"}

    def handle_exception(self, exc):
        if isinstance(exc, RuleError) and exc.field in self.api_names:
            exc.field = self.api_names[exc.field]
        return super().handle_exception(exc)

    def get_queryset(self) -> QuerySet[Incident]:
        if self.action == "list":
            return incident_list()
        if self.action == "retrieve":
            return self._detail_queryset()
        # Actions: find the row; the service re-reads it under a lock.
        return Incident.objects.all()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # List parameters filter the list only, never the row an action is aimed at.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        return s.IncidentListSerializer if self.action == "list" else s.IncidentDetailSerializer

    @staticmethod
    def _detail_queryset() -> QuerySet[Incident]:
        return incident_detail().select_related("created_by")

    def _detail(self, incident: Incident, code: int = status.HTTP_200_OK) -> Response:
        fresh = self._detail_queryset().get(pk=incident.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    # --- create / update -------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        data = self._input(s.IncidentDeclareSerializer)
        incident = services.incident_declare(user=request.user, **data)
        response = self._detail(incident, status.HTTP_201_CREATED)
        # A plain str: the hyperlink is a str subclass, which WSGI servers refuse in headers.
        response["Location"] = str(response.data["url"])
        return response

    def partial_update(self, request: Request, reference: str) -> Response:
        incident = self.get_object()
        data = self._input(s.IncidentUpdateSerializer)
        services.incident_update(incident=incident, user=request.user, data=data)
        return self._detail(incident)

    # --- lifecycle -------------------------------------------------------------------------

    @_responds(s.IncidentDetailSerializer, request=None, summary="Acknowledge (stamps MTTA)")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, reference: str) -> Response:
        incident = self.get_object()
        services.incident_acknowledge(incident=incident, user=request.user)
        return self._detail(incident)

    @_responds(
        s.IncidentDetailSerializer,
        request=s.StatusChangeSerializer,
        summary="Move along the lifecycle",
        description="A move the state machine refuses is a 409 listing the allowed moves.",
    )
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, reference: str) -> Response:
        incident = self.get_object()
        data = self._input(s.StatusChangeSerializer)
        services.incident_set_status(incident=incident, user=request.user, **data)
        return self._detail(incident)

    @_responds(
        s.IncidentDetailSerializer,
        request=s.SeverityChangeSerializer,
        summary="Raise or lower the severity, with a reason",
    )
    @action(detail=True, methods=["post"], url_path="severity")
    def change_severity(self, request: Request, reference: str) -> Response:
        incident = self.get_object()
        data = self._input(s.SeverityChangeSerializer)
        services.incident_change_severity(incident=incident, user=request.user, **data)
        return self._detail(incident)

    @_responds(
        s.IncidentDetailSerializer,
        request=s.SecurityCheckpointSerializer,
        summary="Record a security or privacy checkpoint",
    )
    @action(detail=True, methods=["post"], url_path="security-checkpoint")
    def security_checkpoint(self, request: Request, reference: str) -> Response:
        incident = self.get_object()
        data = self._input(s.SecurityCheckpointSerializer)
        services.security_checkpoint_mark(incident=incident, user=request.user, **data)
        return self._detail(incident)

    # --- roles -----------------------------------------------------------------------------

    @_responds(
        s.RoleAssignmentSerializer,
        code=status.HTTP_201_CREATED,
        request=s.RoleAssignSerializer,
        summary="Give someone a role (a hand-over for single-holder roles)",
    )
    @action(detail=True, methods=["post"], url_path="roles")
    def assign_role(self, request: Request, reference: str) -> Response:
        incident = self.get_object()
        data = self._input(s.RoleAssignSerializer)
        assignment = services.role_assign(incident=incident, by=request.user, **data)
        return Response(s.RoleAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    @_responds(
        s.IncidentDetailSerializer,
        request=s.RoleRelieveSerializer,
        summary="Relieve a role holder without naming a successor",
        parameters=[OpenApiParameter("assignment_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"roles/(?P<assignment_id>\d+)/relieve",
        url_name="relieve-role",
    )
    def relieve_role(self, request: Request, reference: str, assignment_id: str) -> Response:
        incident = self.get_object()
        assignment = _row_or_404(
            RoleAssignment.objects.select_related("incident"), assignment_id, incident=incident
        )
        data = self._input(s.RoleRelieveSerializer)
        services.role_relieve(assignment=assignment, by=request.user, **data)
        return self._detail(incident)

    # --- checklist and timeline ------------------------------------------------------------

    @_responds(
        s.IncidentDetailSerializer,
        request=s.ChecklistTickSerializer,
        summary="Tick (or untick with done=false) a checklist item",
        parameters=[OpenApiParameter("item_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"checklist/(?P<item_id>\d+)/tick",
        url_name="tick",
    )
    def tick(self, request: Request, reference: str, item_id: str) -> Response:
        incident = self.get_object()
        item = _row_or_404(
            ChecklistItem.objects.select_related("incident"), item_id, incident=incident
        )
        data = self._input(s.ChecklistTickSerializer)
        services.checklist_tick(item=item, user=request.user, **data)
        return self._detail(incident)

    @_responds(
        s.TimelineEntrySerializer,
        code=status.HTTP_201_CREATED,
        request=s.NoteSerializer,
        summary="Add a note, hypothesis, action or decision to the timeline",
    )
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, reference: str) -> Response:
        incident = self.get_object()
        data = self._input(s.NoteSerializer)
        entry = services.note_add(incident=incident, user=request.user, **data)
        return Response(s.TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The timeline, newest first",
        responses={
            200: s.TimelineEntrySerializer(many=True),
            400: REFUSALS[400],
            404: REFUSALS[404],
        },
        filters=False,
        parameters=[
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                enum=TimelineEntry.Kind.values,
                many=True,
                description="Only entries of these kinds (repeat the parameter).",
            )
        ],
    )
    @action(detail=True, methods=["get"])
    def timeline(self, request: Request, reference: str) -> Response:
        incident = self.get_object()
        entries = TimelineEntry.objects.filter(incident=incident).select_related("author")
        filterset = TimelineFilter(request.query_params, queryset=entries, request=request)
        if not filterset.is_valid():
            return Response(filterset.errors, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(filterset.qs.order_by("-occurred_at", "-id"))
        return self.get_paginated_response(s.TimelineEntrySerializer(page, many=True).data)

    # --- affected services -----------------------------------------------------------------

    @_responds(
        s.IncidentDetailSerializer,
        request=s.AffectedServiceSetSerializer,
        summary="Add an affected service or change its status",
    )
    @action(detail=True, methods=["post"], url_path="services")
    def set_service(self, request: Request, reference: str) -> Response:
        incident = self.get_object()
        data = self._input(s.AffectedServiceSetSerializer)
        services.affected_service_set(incident=incident, user=request.user, **data)
        return self._detail(incident)

    @_responds(
        s.IncidentDetailSerializer,
        request=None,
        summary="Remove an affected service",
        parameters=[OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"services/(?P<slug>[-a-zA-Z0-9_]+)",
        url_name="remove-service",
    )
    def remove_service(self, request: Request, reference: str, slug: str) -> Response:
        incident = self.get_object()
        service = Service.objects.filter(slug=slug).first()
        if service is None:
            raise Http404
        services.affected_service_remove(incident=incident, service=service, user=request.user)
        return self._detail(incident)
