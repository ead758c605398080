"""Serializers for the incidents API.

Write serializers only check the shape of a request (types, lengths, known keys and slugs)
and hand plain values to ``incidents.services``, which hold the rules; read serializers
render what the selectors fetched, without further queries.
"""

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from ircore.api.serializers import (
    KeyRelatedField,
    SlugListField,
    StrictSerializer,
    not_future,
)
from ircore.models import IncidentType, Service, Severity
from ircore.verbs import may

from .. import permissions as verbs
from ..models import ChecklistItem, Incident, IncidentService, RoleAssignment, TimelineEntry
from ..selectors import checklist_progress_of, missing_roles
from ..services import COUNT_LIMITS, SECURITY_CHECKPOINTS, allowed_moves

# --- input fields --------------------------------------------------------------------------


# Several models here have a field called ``status``: each choice set is its own named schema
# component, so generated clients never mix an incident's states up with a service's.
@extend_schema_field(
    {"type": "string", "enum": Incident.Status.values}, component_name="IncidentStatusEnum"
)
class IncidentStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Incident.Status.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": IncidentService.Status.values},
    component_name="AffectedServiceStatusEnum",
)
class AffectedServiceStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=IncidentService.Status.choices, **kwargs)


# --- write serializers ---------------------------------------------------------------------


def incident_type_field(**kwargs) -> KeyRelatedField:
    """The optional incident type, written by its key."""
    return KeyRelatedField(
        noun="incident type",
        slug_field="key",
        queryset=IncidentType.objects.all(),
        source="incident_type",
        required=False,
        allow_null=True,
        **kwargs,
    )


class IncidentDeclareSerializer(StrictSerializer):
    """Declare an incident: severity and type by key, services by slug."""

    title = serializers.CharField(max_length=200)
    severity = KeyRelatedField(noun="severity", slug_field="key", queryset=Severity.objects.all())
    services = SlugListField(
        queryset=Service.objects.all(), noun="service", required=False, default=list
    )
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    type = incident_type_field(default=None)
    drill = serializers.BooleanField(source="is_drill", required=False, default=False)
    detected_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    impact_started_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    validate_detected_at = staticmethod(not_future)
    validate_impact_started_at = staticmethod(not_future)


class IncidentUpdateSerializer(StrictSerializer):
    """PATCH: details, corrected lifecycle times and impact figures; all optional."""

    redirect = {
        "status": "Change the status with POST …/status/.",
        "severity": "Change the severity with POST …/severity/.",
        "services": "Change affected services with POST or DELETE …/services/.",
    }

    title = serializers.CharField(max_length=200, required=False)
    summary = serializers.CharField(allow_blank=True, required=False)
    type = incident_type_field()
    drill = serializers.BooleanField(source="is_drill", required=False)
    channel_name = serializers.CharField(max_length=80, allow_blank=True, required=False)
    impact_started_at = serializers.DateTimeField(required=False, allow_null=True)
    detected_at = serializers.DateTimeField(required=False, allow_null=True)
    declared_at = serializers.DateTimeField(required=False, allow_null=True)
    acknowledged_at = serializers.DateTimeField(required=False, allow_null=True)
    mitigated_at = serializers.DateTimeField(required=False, allow_null=True)
    resolved_at = serializers.DateTimeField(required=False, allow_null=True)
    closed_at = serializers.DateTimeField(required=False, allow_null=True)
    customers_affected = serializers.IntegerField(
        min_value=0, max_value=COUNT_LIMITS["customers_affected"], required=False, allow_null=True
    )
    transactions_delayed = serializers.IntegerField(
        min_value=0, max_value=COUNT_LIMITS["transactions_delayed"], required=False, allow_null=True
    )
    transactions_failed = serializers.IntegerField(
        min_value=0, max_value=COUNT_LIMITS["transactions_failed"], required=False, allow_null=True
    )
    financial_impact = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
    )


class StatusChangeSerializer(StrictSerializer):
    """Move the incident to another status, with an optional note for the timeline."""

    status = IncidentStatusField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SeverityChangeSerializer(StrictSerializer):
    """Raise or lower the severity (by key); the reason goes on the timeline."""

    severity = KeyRelatedField(noun="severity", slug_field="key", queryset=Severity.objects.all())
    reason = serializers.CharField()


class RoleAssignSerializer(StrictSerializer):
    """Give a person (by username) a role; an uncertified IC needs an override reason."""

    role = serializers.ChoiceField(choices=RoleAssignment.Role.choices)
    user = KeyRelatedField(
        noun="user", slug_field="username", queryset=get_user_model().objects.all()
    )
    override_reason = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    occurred_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When the role was taken, to record it after the fact (default: now).",
    )


class RoleRelieveSerializer(StrictSerializer):
    """Optionally, when the holder stepped down (recorded after the fact)."""

    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ChecklistTickSerializer(StrictSerializer):
    """Tick a checklist item, or untick it with ``done: false``."""

    done = serializers.BooleanField(required=False, default=True)


class NoteSerializer(StrictSerializer):
    """A note, hypothesis, action or decision for the timeline."""

    kind = serializers.ChoiceField(
        choices=[(kind.value, kind.label) for kind in TimelineEntry.MANUAL_KINDS]
    )
    text = serializers.CharField()
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class AffectedServiceSetSerializer(StrictSerializer):
    """Add a service (by slug) to the incident, or change how it is affected."""

    service = KeyRelatedField(noun="service", slug_field="slug", queryset=Service.objects.all())
    status = AffectedServiceStatusField(required=False, default=IncidentService.Status.DEGRADED)


class SecurityCheckpointSerializer(StrictSerializer):
    """Record a security or privacy checkpoint as done now."""

    checkpoint = serializers.ChoiceField(choices=list(SECURITY_CHECKPOINTS))


# --- read serializers ----------------------------------------------------------------------


class SeverityBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Severity
        fields = ["key", "name", "rank", "colour"]


class IncidentTypeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentType
        fields = ["key", "name"]


class AffectedServiceSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(source="service.slug")
    name = serializers.CharField(source="service.name")
    status = AffectedServiceStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display")

    class Meta:
        model = IncidentService
        fields = ["slug", "name", "status", "status_display"]


class RoleAssignmentSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    assigned_by = serializers.CharField(source="assigned_by.username", allow_null=True)
    role_display = serializers.CharField(source="get_role_display")
    current = serializers.BooleanField(source="is_current")

    class Meta:
        model = RoleAssignment
        fields = [
            "id",
            "role",
            "role_display",
            "user",
            "current",
            "assigned_at",
            "relieved_at",
            "assigned_by",
            "override_reason",
        ]


class ChecklistItemSerializer(serializers.ModelSerializer):
    done_by = serializers.CharField(source="done_by.username", allow_null=True)

    class Meta:
        model = ChecklistItem
        fields = ["id", "position", "text", "severity_key", "done", "done_at", "done_by"]


class ChecklistSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField(
        allow_null=True, help_text="Null when the incident has no checklist items."
    )
    items = ChecklistItemSerializer(many=True)


class RegulatorySerializer(serializers.Serializer):
    required = serializers.BooleanField(help_text="The incident type sets a regulator clock.")
    due_at = serializers.DateTimeField(allow_null=True)
    notified_at = serializers.DateTimeField(allow_null=True)
    seconds_remaining = serializers.IntegerField(
        allow_null=True, help_text="Until the deadline; negative once overdue; null once notified."
    )
    overdue = serializers.BooleanField()
    evidence_preserved_at = serializers.DateTimeField(allow_null=True)
    credentials_rotated_at = serializers.DateTimeField(allow_null=True)


class TimelineEntrySerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display")
    author = serializers.CharField(source="author.username", allow_null=True)

    class Meta:
        model = TimelineEntry
        fields = ["id", "kind", "kind_display", "occurred_at", "author", "text", "data"]


class IncidentListSerializer(serializers.ModelSerializer):
    # Fields on models the viewer may not see are left out for them, as in the admin.
    # Field -> the verb a viewer needs to see it (the admin hides the same parts).
    GATED = {"incident_commander": verbs.VIEW_ROLES}

    url = serializers.HyperlinkedIdentityField(
        view_name="incident-detail", lookup_field="reference"
    )
    severity = SeverityBriefSerializer()
    type = IncidentTypeBriefSerializer(source="incident_type", allow_null=True)
    drill = serializers.BooleanField(source="is_drill")
    status = IncidentStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display")
    incident_commander = serializers.CharField(
        source="ic_username", allow_null=True, help_text="Username of the current IC."
    )
    services = AffectedServiceSerializer(source="affected", many=True)

    class Meta:
        model = Incident
        fields = [
            "reference",
            "url",
            "title",
            "status",
            "status_display",
            "severity",
            "type",
            "drill",
            "declared_at",
            "acknowledged_at",
            "mitigated_at",
            "resolved_at",
            "closed_at",
            "incident_commander",
            "services",
        ]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        # Only a signed-in viewer is gated: anonymous requests never reach a detail (401), and
        # the schema generator, which has no user, must describe every field.
        if user is not None and user.is_authenticated:
            for name, verb in self.GATED.items():
                if not may(user, verb):
                    fields.pop(name, None)
        return fields


class IncidentDetailSerializer(IncidentListSerializer):
    """Everything a responder's page shows. Sections on models the viewer may not see (roles,
    checklist) are left out for them, as the admin would."""

    GATED = {
        **IncidentListSerializer.GATED,
        "roles": verbs.VIEW_ROLES,
        "role_history": verbs.VIEW_ROLES,
        "missing_roles": verbs.VIEW_ROLES,
        "checklist": verbs.VIEW_CHECKLIST,
    }

    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    allowed_moves = serializers.SerializerMethodField()
    regulatory = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField(
        help_text="Current holders. Left out for viewers who may not view role assignments."
    )
    role_history = serializers.SerializerMethodField(
        help_text="Every holder, current or relieved, newest first per role (same rule)."
    )
    missing_roles = serializers.SerializerMethodField(
        help_text="Required roles nobody holds (IC; Executive Sponsor where the severity asks "
        "for one). Empty once resolved. Left out like roles."
    )
    checklist = serializers.SerializerMethodField(
        help_text="Left out for viewers who may not view checklist items."
    )
    timeline_url = serializers.SerializerMethodField()

    class Meta(IncidentListSerializer.Meta):
        fields = [
            *IncidentListSerializer.Meta.fields,
            "summary",
            "channel_name",
            "impact_started_at",
            "detected_at",
            "customers_affected",
            "transactions_delayed",
            "transactions_failed",
            "financial_impact",
            "regulatory",
            "allowed_moves",
            "roles",
            "role_history",
            "missing_roles",
            "checklist",
            "created_by",
            "created_at",
            "updated_at",
            "timeline_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_moves(self, incident: Incident) -> list[str]:
        return [str(move) for move in allowed_moves(incident)]

    @extend_schema_field(RegulatorySerializer)
    def get_regulatory(self, incident: Incident) -> dict[str, Any]:
        clock = incident.regulatory_clock(timezone.now())
        return RegulatorySerializer(
            {
                "required": clock is not None,
                "due_at": clock.due_at if clock else None,
                "notified_at": incident.regulator_notified_at,
                "seconds_remaining": clock.seconds_remaining if clock else None,
                "overdue": clock is not None and clock.overdue,
                "evidence_preserved_at": incident.evidence_preserved_at,
                "credentials_rotated_at": incident.credentials_rotated_at,
            }
        ).data

    @extend_schema_field(RoleAssignmentSerializer(many=True))
    def get_roles(self, incident: Incident) -> list[dict[str, Any]]:
        current = [a for a in incident.roles.all() if a.relieved_at is None]
        return RoleAssignmentSerializer(current, many=True).data

    @extend_schema_field(RoleAssignmentSerializer(many=True))
    def get_role_history(self, incident: Incident) -> list[dict[str, Any]]:
        return RoleAssignmentSerializer(incident.roles.all(), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_missing_roles(self, incident: Incident) -> list[str]:
        return [str(role) for role in missing_roles(incident, incident.roles.all())]

    @extend_schema_field(ChecklistSerializer)
    def get_checklist(self, incident: Incident) -> dict[str, Any]:
        items = list(incident.checklist.all())  # prefetched: counted here, not in SQL
        progress = checklist_progress_of(items)
        return ChecklistSerializer(
            {
                "done": progress.done,
                "total": progress.total,
                "percent": progress.percent,
                "items": items,
            }
        ).data

    @extend_schema_field(OpenApiTypes.URI)
    def get_timeline_url(self, incident: Incident) -> str:
        return reverse(
            "incident-timeline",
            kwargs={"reference": incident.reference},
            request=self.context.get("request"),
        )
