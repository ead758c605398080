"""Serializers for the notices API. Write serializers only check a request's shape (types,
known keys, incidents by reference, templates by name, components by slug) and hand plain
values to ``comms.services.notices``, which holds the rules; read serializers render what the
view fetched, without further queries."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.models import Incident
from ircore.api.serializers import KeyRelatedField, SlugListField, StrictSerializer
from ircore.models import Service

from .. import permissions as verbs
from ..models import Audience, Notice, NoticeComment, Template
from ..services.notices import COMMENT_LIMIT, SUBJECT_LIMIT

# Several models have a ``status`` (and templates an ``audience``): each choice set is its own
# named schema component, so generated clients never mix a notice's states up with another's.


@extend_schema_field(
    {"type": "string", "enum": Notice.Status.values}, component_name="NoticeStatusEnum"
)
class NoticeStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Notice.Status.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": Audience.values}, component_name="NoticeAudienceEnum"
)
class AudienceField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Audience.choices, **kwargs)


def _components_field(**kwargs) -> SlugListField:
    return SlugListField(
        queryset=Service.objects.all(),
        noun="service",
        required=False,
        help_text="Customer notices: the status-page components (service slugs). Left out "
        "on a draft: the incident's public affected services.",
        **kwargs,
    )


# --- write serializers ----------------------------------------------------------------------


class NoticeDraftSerializer(StrictSerializer):
    """A new draft: by hand (subject and body), or from a template by name (its audience;
    what is left empty is rendered from it against the incident)."""

    incident = KeyRelatedField(
        noun="incident", slug_field="reference", queryset=Incident.objects.all()
    )
    audience = AudienceField(required=False)
    template = KeyRelatedField(
        noun="template",
        slug_field="name",
        queryset=Template.objects.all(),
        required=False,
        allow_null=True,
    )
    subject = serializers.CharField(max_length=SUBJECT_LIMIT, required=False, allow_blank=True)
    body = serializers.CharField(
        max_length=Notice.BODY_LIMIT, required=False, allow_blank=True, trim_whitespace=False
    )
    components = _components_field()


class NoticeUpdateSerializer(StrictSerializer):
    """PATCH a draft: its text and components; all optional."""

    redirect = {
        "status": "Change the status with POST …/submit/, …/approve/, …/legal-approve/, "
        "…/send-back/ or …/publish/.",
        "incident": "A notice stays about its incident; draft a new one.",
        "audience": "A notice keeps its audience; draft a new one.",
        "template": "The template wrote the first draft; change subject and body instead.",
    }

    subject = serializers.CharField(max_length=SUBJECT_LIMIT, required=False)
    body = serializers.CharField(
        max_length=Notice.BODY_LIMIT, required=False, trim_whitespace=False
    )
    components = _components_field()


class SendBackSerializer(StrictSerializer):
    comment = serializers.CharField(
        max_length=COMMENT_LIMIT, help_text="What should change; the writer reads it."
    )


# --- read serializers -----------------------------------------------------------------------


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    from_status = NoticeStatusField(read_only=True)

    class Meta:
        model = NoticeComment
        fields = ["author", "text", "from_status", "created_at"]
        read_only_fields = fields

    def get_author(self, comment: NoticeComment) -> str | None:
        return _username(comment.author)


class NoticeListSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="notice-detail")
    incident = serializers.CharField(source="incident.reference", read_only=True)
    audience = AudienceField(read_only=True)
    status = NoticeStatusField(read_only=True)
    template = serializers.SerializerMethodField()
    components = serializers.SerializerMethodField()
    legal_review_required = serializers.BooleanField(read_only=True)
    created_by = serializers.SerializerMethodField()
    submitted_by = serializers.SerializerMethodField()
    approved_by = serializers.SerializerMethodField()
    legal_approved_by = serializers.SerializerMethodField()
    published_by = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = [
            "id",
            "url",
            "incident",
            "audience",
            "status",
            "template",
            "subject",
            "body",
            "components",
            "legal_review_required",
            "created_by",
            "created_at",
            "submitted_by",
            "submitted_at",
            "approved_by",
            "approved_at",
            "legal_approved_by",
            "legal_approved_at",
            "published_by",
            "published_at",
        ]
        read_only_fields = fields

    def get_template(self, notice: Notice) -> str | None:
        return notice.template.name if notice.template_id else None

    def get_components(self, notice: Notice) -> list[str]:
        # Prefetched by the view: no query per row.
        return sorted(service.slug for service in notice.components.all())

    def get_created_by(self, notice: Notice) -> str | None:
        return _username(notice.created_by)

    def get_submitted_by(self, notice: Notice) -> str | None:
        return _username(notice.submitted_by)

    def get_approved_by(self, notice: Notice) -> str | None:
        return _username(notice.approved_by)

    def get_legal_approved_by(self, notice: Notice) -> str | None:
        return _username(notice.legal_approved_by)

    def get_published_by(self, notice: Notice) -> str | None:
        return _username(notice.published_by)


ACTIONS = {
    "submit": "submit",
    "approve": "approve",
    "legal_approve": "legal-approve",
    "send_back": "send-back",
    "publish": "publish",
    "discard": "discard",
}


class NoticeDetailSerializer(NoticeListSerializer):
    comments = CommentSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField()

    class Meta(NoticeListSerializer.Meta):
        fields = [*NoticeListSerializer.Meta.fields, "comments", "actions"]
        read_only_fields = fields

    @extend_schema_field(
        {"type": "array", "items": {"type": "string", "enum": list(ACTIONS.values())}}
    )
    def get_actions(self, notice: Notice) -> list[str]:
        """What the requester may do to the notice now, as the admin shows its buttons
        (``discard``: DELETE the draft)."""
        request = self.context.get("request")
        if request is None:
            return []
        allowed = verbs.steps(request.user, notice)
        return [ACTIONS[step] for step, yes in allowed.items() if yes]


__all__ = [
    "NoticeDetailSerializer",
    "NoticeDraftSerializer",
    "NoticeListSerializer",
    "NoticeUpdateSerializer",
    "SendBackSerializer",
]
