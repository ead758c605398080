"""/api/v1/pages/ (who was paged about what; filters) and
/api/v1/pages/{id}/acknowledge/ (``escalation_acknowledge(via="api")``).

Each action names its verb (``VIEW_PAGES``, ``ACKNOWLEDGE_PAGE``); a list page costs a fixed
number of queries whatever its size.
"""

import django_filters as df
from django.contrib.auth import get_user_model
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.permissions import ActionPermissions
from incidents.models import Incident
from ircore import api

from ..models import Page
from ..permissions import ACKNOWLEDGE_PAGE, VIEW_PAGES
from ..services.escalation import escalation_acknowledge


class PageSerializer(serializers.ModelSerializer):
    incident = serializers.CharField(source="incident.reference")
    recipient = serializers.CharField(source="recipient.username", default=None)
    endpoint = serializers.CharField(source="endpoint.name", default=None)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", default=None)
    late_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Page
        fields = [
            "id",
            "incident",
            "step",
            "repeat",
            "unless",
            "target_label",
            "recipient",
            "endpoint",
            "status",
            "is_drill",
            "due_at",
            "paged_at",
            "late_seconds",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledged_via",
            "stopped_at",
            "stop_reason",
        ]

    def get_late_seconds(self, page: Page) -> int | None:
        return int(page.late_by.total_seconds()) if page.late_by else None


class PageFilter(api.FilterSet):
    status = df.MultipleChoiceFilter(choices=Page.Status.choices, distinct=False)
    incident = df.ModelChoiceFilter(
        to_field_name="reference",
        queryset=Incident.objects.all(),
        help_text="Pages about this incident (its reference).",
    )
    recipient = df.ModelChoiceFilter(
        to_field_name="username",
        queryset=get_user_model().objects.all(),
        help_text="Pages to this person (username).",
    )
    drill = api.StrictBooleanFilter(field_name="is_drill")
    live = api.StrictBooleanFilter(method="filter_live", help_text="true: may still notify.")

    class Meta:
        model = Page
        fields: list[str] = []

    def filter_live(self, qs, name, value):
        if value is None:
            return qs
        return qs.live() if value else qs.exclude(pk__in=Page.objects.live().values("pk"))


class Pagination(api.Pagination):
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_view(
    list=extend_schema(summary="Pages, newest first"),
    retrieve=extend_schema(summary="A page"),
)
class PageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PageSerializer
    permission_classes = [ActionPermissions]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = PageFilter
    metadata_class = None
    lookup_value_regex = r"[0-9]{1,18}"
    action_verbs = {"list": VIEW_PAGES, "retrieve": VIEW_PAGES, "acknowledge": ACKNOWLEDGE_PAGE}

    def get_queryset(self):
        return Page.objects.select_related(
            "incident", "recipient", "endpoint", "acknowledged_by"
        ).order_by("-due_at", "-id")

    @extend_schema(
        summary="Acknowledge: stamps the incident's acknowledgement, stops pending pages",
        request=None,
        responses={200: PageSerializer, **api.REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        page = self.get_object()
        escalation_acknowledge(incident=page.incident, user=request.user, via="api", page=page)
        page = self.get_queryset().get(pk=page.pk)
        return Response(self.get_serializer(page).data)
