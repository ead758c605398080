"""The notices viewset: /api/v1/notices/ and the review's actions.

Thin by design: a serializer checks the request's shape, one service function does the step
(refusing what breaks a rule: 400 naming the field, 403 for who may not, 409 for what the
notice's state does not allow), and the answer is the notice as the detail reads it. Only a
draft changes (PATCH) or is discarded (DELETE); there is no PUT.
"""

from django.db.models import QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from ircore import api
from ircore.verbs import may

from .. import permissions as verbs
from ..models import Notice
from ..services import notices
from . import serializers as s
from .filters import NoticeFilter

REFUSALS = {
    **api.REFUSALS,
    403: OpenApiResponse(api.ERROR_BODY, description="Not yours to do; the reason says who may."),
}


def _may_any(*names: str):
    return lambda user: any(may(user, name) for name in names)


class NoticePermissions(BasePermission):
    """The first gate, from the verb table: whether the person may do this kind of thing at
    all (approve: by group, or as some incident's Communications Lead). Whether they may do it
    to this notice (their own, another incident's) is the service's check, a 403 naming why.
    An action missing from the map is refused; a method with no action (PUT) is let through
    to its 405."""

    gates = {
        "list": _may_any(verbs.VIEW_NOTICES),
        "retrieve": _may_any(verbs.VIEW_NOTICES),
        "create": _may_any(verbs.DRAFT_NOTICE),
        "partial_update": _may_any(verbs.EDIT_NOTICE),
        "destroy": _may_any(verbs.DISCARD_NOTICE),
        "submit": _may_any(verbs.SUBMIT_NOTICE),
        "approve": _may_any(verbs.APPROVE_NOTICE, verbs.LEAD_NOTICE_COMMS),
        "legal_approve": _may_any(verbs.LEGAL_APPROVE_NOTICE),
        "send_back": _may_any(
            verbs.APPROVE_NOTICE, verbs.LEAD_NOTICE_COMMS, verbs.LEGAL_APPROVE_NOTICE
        ),
        "publish": _may_any(verbs.PUBLISH_NOTICE, verbs.LEAD_NOTICE_COMMS),
    }

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action_name = getattr(view, "action", None)
        if action_name is None:
            return True
        gate = self.gates.get(action_name)
        return gate is not None and gate(user)


class Pagination(api.Pagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def _responds(body, code: int = 200, **kwargs):
    return api.responds(body, code, refusals=REFUSALS, **kwargs)


@extend_schema_view(
    list=extend_schema(
        summary="List notices",
        description="Newest first.",
        responses={200: s.NoticeListSerializer(many=True), 400: REFUSALS[400]},
    ),
    retrieve=extend_schema(
        summary="A notice with its review, comments and what you may do now",
        responses={200: s.NoticeDetailSerializer, 404: REFUSALS[404]},
    ),
    create=extend_schema(
        summary="Draft a notice (by hand or from a template)",
        request=s.NoticeDraftSerializer,
        responses={201: s.NoticeDetailSerializer, 400: REFUSALS[400], 403: REFUSALS[403]},
    ),
    partial_update=extend_schema(
        summary="Edit a draft's subject, body or components",
        request=s.NoticeUpdateSerializer,
        responses={200: s.NoticeDetailSerializer, **REFUSALS},
    ),
    destroy=extend_schema(
        summary="Discard a draft",
        responses={204: None, **REFUSALS},
    ),
)
class NoticeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    api.ValidatedInput,
    viewsets.GenericViewSet,
):
    permission_classes = [NoticePermissions]
    filter_backends = [DjangoFilterBackend]
    filterset_class = NoticeFilter
    pagination_class = Pagination
    parser_classes = api.PARSERS
    # No OPTIONS descriptions: the schema at /api/schema/ documents the API.
    metadata_class = None
    # A notice's id is digits; anything else is no notice (404), never a 500.
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Notice]:
        related = [
            "incident",
            "incident__incident_type",
            "template",
            "created_by",
            "submitted_by",
            "approved_by",
            "legal_approved_by",
            "published_by",
        ]
        queryset = Notice.objects.select_related(*related).prefetch_related("components")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("comments__author")
        return queryset.order_by("-created_at", "-id")

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # List parameters filter the list only, never the row an action is aimed at.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        return s.NoticeListSerializer if self.action == "list" else s.NoticeDetailSerializer

    def _detail(self, notice: Notice, code: int = status.HTTP_200_OK) -> Response:
        try:
            fresh = self.get_queryset().prefetch_related("comments__author").get(pk=notice.pk)
        except Notice.DoesNotExist:
            raise Http404 from None
        return Response(self.get_serializer(fresh).data, status=code)

    # --- drafts ----------------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        data = self._input(s.NoticeDraftSerializer)
        notice = notices.draft(
            incident=data["incident"],
            user=request.user,
            audience=data.get("audience"),
            template=data.get("template"),
            subject=data.get("subject", ""),
            body=data.get("body", ""),
            components=data.get("components"),
        )
        response = self._detail(notice, status.HTTP_201_CREATED)
        # A plain str: the hyperlink is a str subclass, which WSGI servers refuse in headers.
        response["Location"] = str(response.data["url"])
        return response

    def partial_update(self, request: Request, pk: str) -> Response:
        notice = self.get_object()
        data = self._input(s.NoticeUpdateSerializer)
        notices.update(notice=notice, user=request.user, **data)
        return self._detail(notice)

    def destroy(self, request: Request, pk: str) -> Response:
        notices.discard(notice=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- the review ------------------------------------------------------------------------

    @_responds(s.NoticeDetailSerializer, request=None, summary="Submit a draft for review")
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        notice = self.get_object()
        notices.submit(notice=notice, user=request.user)
        return self._detail(notice)

    @_responds(
        s.NoticeDetailSerializer,
        request=None,
        summary="Approve a notice in review (incident managers, the Communications Lead)",
        description="Never one's own. With a legal review pending it stays in review.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        notice = self.get_object()
        notices.approve(notice=notice, user=request.user)
        return self._detail(notice)

    @_responds(
        s.NoticeDetailSerializer,
        request=None,
        summary="Give a notice its legal approval (legal reviewers)",
        description="Only notices about incident types that need legal review; never one's "
        "own, nor one the same person approved.",
    )
    @action(detail=True, methods=["post"], url_path="legal-approve", url_name="legal-approve")
    def legal_approve(self, request: Request, pk: str) -> Response:
        notice = self.get_object()
        notices.legal_approve(notice=notice, user=request.user)
        return self._detail(notice)

    @_responds(
        s.NoticeDetailSerializer,
        request=s.SendBackSerializer,
        summary="Send a notice back to draft with a comment",
    )
    @action(detail=True, methods=["post"], url_path="send-back", url_name="send-back")
    def send_back(self, request: Request, pk: str) -> Response:
        notice = self.get_object()
        data = self._input(s.SendBackSerializer)
        notices.send_back(notice=notice, user=request.user, comment=data["comment"])
        return self._detail(notice)

    @_responds(
        s.NoticeDetailSerializer,
        request=None,
        summary="Publish an approved notice to its audience",
        description="Internal updates to the incident's routes and team lists, executive "
        "briefings to leadership and the sponsor, customer notices to the status page and "
        "its subscribers. A second publish is a 409 and sends nothing.",
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        notice = self.get_object()
        notices.publish(notice, user=request.user)
        return self._detail(notice)
