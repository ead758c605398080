"""Serializers for the postmortems API: strict write serializers that only check the shape
of a request (unknown keys are a 400 naming them) and hand plain values to the services,
which hold the rules; read serializers render what the views fetched, without more queries."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from rest_framework import serializers

from incidents.models import Incident
from ircore.api.serializers import KeyRelatedField, StrictSerializer
from ircore.models import Team

from ..models import ActionItem, Postmortem, PostmortemTimelineEntry
from ..services.postmortems import COUNT_LIMITS, SECTION_LIMIT, SECTIONS


def user_field(**kwargs) -> KeyRelatedField:
    return KeyRelatedField(
        noun="user", slug_field="username", queryset=get_user_model().objects.all(), **kwargs
    )


def username(user) -> str | None:
    return user.get_username() if user else None


# --- postmortems: write --------------------------------------------------------------------


class PostmortemOpenSerializer(StrictSerializer):
    """Open a postmortem by hand: the incident (reference), optionally its owner."""

    incident = KeyRelatedField(
        noun="incident", slug_field="reference", queryset=Incident.objects.all()
    )
    owner = user_field(required=False, allow_null=True, default=None)


class PostmortemUpdateSerializer(StrictSerializer):
    """PATCH: sections (Markdown), impact figures, the review meeting; all optional."""

    redirect = {
        "status": "Use POST …/submit/, …/publish/, …/send-back/ or …/reopen/.",
        "owner": "Hand it over with POST …/reassign/.",
        "due_at": "Move the deadline with POST …/deadline/.",
    }

    customers_affected = serializers.IntegerField(
        min_value=0, max_value=COUNT_LIMITS["customers_affected"], required=False, allow_null=True
    )
    transactions_delayed = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    transactions_failed = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    financial_impact = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    review_meeting_at = serializers.DateTimeField(required=False, allow_null=True)
    attendees = serializers.ListField(child=user_field(), required=False, max_length=200)

    def get_fields(self):
        fields = super().get_fields()
        for name in SECTIONS:
            fields[name] = serializers.CharField(
                required=False, allow_blank=True, max_length=SECTION_LIMIT, trim_whitespace=False
            )
        return fields


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class ReassignSerializer(StrictSerializer):
    owner = user_field()


class DeadlineSerializer(StrictSerializer):
    due_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=1000)


class TimelineEntryWriteSerializer(StrictSerializer):
    occurred_at = serializers.DateTimeField(required=False)
    text = serializers.CharField(required=False, max_length=10_000)
    starred = serializers.BooleanField(required=False)


# --- postmortems: read ---------------------------------------------------------------------


class PostmortemTimelineEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PostmortemTimelineEntry
        fields = ["id", "occurred_at", "text", "starred", "kind", "source"]


class ActionItemBriefSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="kind")
    owner = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = ["id", "title", "type", "owner", "priority", "due_on", "status"]

    def get_owner(self, item) -> str | None:
        return username(item.owner)


class PostmortemListSerializer(serializers.ModelSerializer):
    incident = serializers.CharField(source="incident.reference")
    severity = serializers.CharField(source="incident.severity.key")
    owner = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    on_time = serializers.BooleanField(read_only=True, allow_null=True)

    class Meta:
        model = Postmortem
        fields = [
            "id",
            "incident",
            "severity",
            "status",
            "owner",
            "opened_at",
            "due_at",
            "overdue",
            "submitted_at",
            "published_at",
            "on_time",
        ]

    def get_owner(self, pm) -> str | None:
        return username(pm.owner)

    def get_overdue(self, pm) -> bool:
        return pm.overdue(self.context["now"])


class PostmortemDetailSerializer(PostmortemListSerializer):
    published_by = serializers.SerializerMethodField()
    time_to_detect_seconds = serializers.SerializerMethodField()
    attendees = serializers.SerializerMethodField()
    timeline = PostmortemTimelineEntrySerializer(many=True, read_only=True)
    action_items = ActionItemBriefSerializer(many=True, read_only=True)

    class Meta(PostmortemListSerializer.Meta):
        fields = [
            *PostmortemListSerializer.Meta.fields,
            "published_by",
            "reopened_at",
            "reopen_reason",
            *SECTIONS,
            "customers_affected",
            "transactions_delayed",
            "transactions_failed",
            "financial_impact",
            "time_to_detect_seconds",
            "review_meeting_at",
            "attendees",
            "timeline",
            "action_items",
        ]

    def get_published_by(self, pm) -> str | None:
        return username(pm.published_by)

    def get_time_to_detect_seconds(self, pm) -> int | None:
        ttd = pm.time_to_detect
        return int(ttd.total_seconds()) if ttd is not None else None

    def get_attendees(self, pm) -> list[str]:
        return [u.get_username() for u in pm.attendees.all()]


# --- action items --------------------------------------------------------------------------


class ActionItemWriteSerializer(StrictSerializer):
    """Create (title and type required) or PATCH an action item; status moves by POST
    …/status/. ``due_on`` omitted or null: the priority's default from the policy."""

    redirect = {
        "status": "Move it with POST …/status/ (done needs evidence, won't do a reason).",
        "postmortem": "An item stays with the postmortem it was added to.",
    }

    title = serializers.CharField(max_length=200, required=False)
    type = serializers.ChoiceField(choices=ActionItem.Kind.choices, source="kind", required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    owner = user_field(required=False, allow_null=True)
    team = KeyRelatedField(
        noun="team", slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    priority = serializers.ChoiceField(choices=ActionItem.Priority.choices, required=False)
    due_on = serializers.DateField(required=False, allow_null=True)
    ticket_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class ActionItemCreateSerializer(ActionItemWriteSerializer):
    redirect = {"status": ActionItemWriteSerializer.redirect["status"]}

    postmortem = serializers.PrimaryKeyRelatedField(
        queryset=Postmortem.objects.all(), required=False, allow_null=True, default=None
    )


class ActionItemStatusSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=ActionItem.Status.choices)
    evidence = serializers.CharField(required=False, max_length=10_000)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ActionItemSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="kind")
    postmortem = serializers.IntegerField(source="postmortem_id", allow_null=True)
    incident = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    team = serializers.SerializerMethodField()
    completed_by = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "postmortem",
            "incident",
            "title",
            "type",
            "description",
            "owner",
            "team",
            "priority",
            "due_on",
            "overdue",
            "status",
            "ticket_url",
            "evidence",
            "wont_do_reason",
            "completed_at",
            "completed_by",
            "created_at",
        ]

    def get_incident(self, item) -> str | None:
        return item.postmortem.incident.reference if item.postmortem_id else None

    def get_owner(self, item) -> str | None:
        return username(item.owner)

    def get_team(self, item) -> str | None:
        return item.team.slug if item.team_id else None

    def get_completed_by(self, item) -> str | None:
        return username(item.completed_by)

    def get_overdue(self, item) -> bool:
        return item.is_overdue(self.context["today"])
