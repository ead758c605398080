"""Read-only API for the policy and the catalog: severities, incident types, services, teams.

Changed in the admin (and moved between installs as the policy file), only read here, by the
same ``view`` permissions the role groups hold; rows are looked up by their key or slug.
"""

import django_filters as df
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from .api import REFUSALS, FilterSet, Pagination, StrictBooleanFilter, StrictOrderingFilter
from .models import ChecklistTemplateItem, IncidentType, Service, Severity, Team


class SeveritySerializer(serializers.ModelSerializer):
    examples = serializers.SerializerMethodField()
    checklist = serializers.SlugRelatedField(
        many=True,
        read_only=True,
        slug_field="text",
        help_text="Checklist items an incident of this severity starts with, in order.",
    )

    class Meta:
        model = Severity
        fields = [
            "key",
            "rank",
            "name",
            "definition",
            "examples",
            "colour",
            "ack_target",
            "resolve_target",
            "internal_update_every",
            "customer_update_every",
            "postmortem_required",
            "postmortem_due",
            "page_immediately",
            "who_is_paged",
            "executive_sponsor_required",
            "checklist",
        ]

    def get_examples(self, severity: Severity) -> list[str]:
        return [line.strip() for line in severity.examples.splitlines() if line.strip()]


class IncidentTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentType
        fields = [
            "key",
            "name",
            "description",
            "regulatory_notification_hours",
            "security_checkpoints",
        ]


class ServiceSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    tier_display = serializers.CharField(source="get_tier_display", read_only=True)

    class Meta:
        model = Service
        fields = [
            "slug",
            "name",
            "team",
            "tier",
            "tier_display",
            "description",
            "public",
            "public_name",
        ]


class TeamSerializer(serializers.ModelSerializer):
    lead = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    manager = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    members = serializers.SlugRelatedField(slug_field="username", read_only=True, many=True)
    services = serializers.SlugRelatedField(slug_field="slug", read_only=True, many=True)

    class Meta:
        model = Team
        fields = ["slug", "name", "lead", "manager", "members", "services", "chat_channel", "email"]


class ServiceFilter(FilterSet):
    team = df.ModelChoiceFilter(to_field_name="slug", queryset=Team.objects.all())
    public = StrictBooleanFilter()

    class Meta:
        model = Service
        fields = ["team", "tier", "public"]


# Keys and slugs: letters, digits, '-', '_' and '.' (severity keys such as "SEV-1" or "P0").
KEY_REGEX = r"[-\w.]+"


def _documented(serializer_class):
    """Lists refuse bad filters, orderings and page numbers (400) and pages past the end
    (404); a key or slug that names nothing is a 404."""
    return extend_schema_view(
        list=extend_schema(
            responses={
                200: serializer_class(many=True),
                400: REFUSALS[400],
                404: REFUSALS[404],
            }
        ),
        retrieve=extend_schema(responses={200: serializer_class, 404: REFUSALS[404]}),
    )


class CatalogViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only lists with strict paging and ordering (by ``ordering_fields`` only)."""

    lookup_value_regex = KEY_REGEX
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]


@_documented(SeveritySerializer)
class SeverityViewSet(CatalogViewSet):
    queryset = Severity.objects.prefetch_related(
        Prefetch("checklist", queryset=ChecklistTemplateItem.objects.order_by("position", "id"))
    )
    serializer_class = SeveritySerializer
    lookup_field = "key"
    ordering_fields = ["rank", "key", "name"]


@_documented(IncidentTypeSerializer)
class IncidentTypeViewSet(CatalogViewSet):
    queryset = IncidentType.objects.all()
    serializer_class = IncidentTypeSerializer
    lookup_field = "key"
    ordering_fields = ["key", "name"]


@_documented(ServiceSerializer)
class ServiceViewSet(CatalogViewSet):
    queryset = Service.objects.select_related("team")
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter
    lookup_field = "slug"
    ordering_fields = ["slug", "name", "tier"]


@_documented(TeamSerializer)
class TeamViewSet(CatalogViewSet):
    queryset = Team.objects.select_related("lead", "manager").prefetch_related(
        Prefetch("members", queryset=get_user_model().objects.order_by("username")),
        "services",
    )
    serializer_class = TeamSerializer
    lookup_field = "slug"
    ordering_fields = ["slug", "name"]
