"""/api/v1/postmortems/ and /api/v1/action-items/: list, retrieve, update, and the verbs.

Thin by design (as the incidents API): a strict serializer checks the request's shape, one
service does the change and refuses what breaks a rule (a 4xx naming the field; 403 for a
postmortem the person does not take part in), and the answer is the row read again. Each
action names its verb (``postmortems.permissions``), the same entries the admin asks.
Nothing is deleted: postmortems and their items are records.
"""

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.permissions import ActionPermissions
from ircore import api

from .. import export
from .. import permissions as verbs
from ..models import ActionItem, Postmortem, PostmortemTimelineEntry
from ..services import actions as items
from ..services import postmortems as services
from ..services.actions import today_utc
from . import serializers as s
from .filters import ActionItemFilter, PostmortemFilter

REFUSALS = {**api.REFUSALS, 403: api.REFUSALS[400]}


_responds = api.responds


class Pagination(api.Pagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class _Base(api.ValidatedInput, viewsets.GenericViewSet):
    permission_classes = [ActionPermissions]
    filter_backends = [DjangoFilterBackend]
    pagination_class = Pagination
    parser_classes = api.PARSERS
    metadata_class = None
    lookup_value_regex = r"[0-9]{1,18}"

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # List parameters filter the list only, never the row an action is aimed at.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_context(self):
        now = timezone.now()
        return {**super().get_serializer_context(), "now": now, "today": today_utc(now)}


@extend_schema_view(
    list=extend_schema(summary="Postmortems, newest first"),
    retrieve=extend_schema(summary="A postmortem with its sections, timeline and action items"),
    create=extend_schema(
        summary="Open a postmortem by hand",
        request=s.PostmortemOpenSerializer,
        responses={201: s.PostmortemDetailSerializer, **REFUSALS},
    ),
    partial_update=extend_schema(
        summary="Write its sections, impact figures and review meeting",
        request=s.PostmortemUpdateSerializer,
        responses={200: s.PostmortemDetailSerializer, **REFUSALS},
    ),
)
class PostmortemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Base):
    filterset_class = PostmortemFilter
    action_verbs = {
        "list": verbs.VIEW_POSTMORTEM,
        "retrieve": verbs.VIEW_POSTMORTEM,
        "markdown": verbs.VIEW_POSTMORTEM,
        "create": verbs.OPEN_POSTMORTEM,
        "partial_update": verbs.EDIT_POSTMORTEM,
        "submit": verbs.SUBMIT_POSTMORTEM,
        "send_back": verbs.SUBMIT_POSTMORTEM,
        "publish": verbs.PUBLISH_POSTMORTEM,
        "reopen": verbs.REOPEN_POSTMORTEM,
        "reassign": verbs.REASSIGN_POSTMORTEM,
        "deadline": verbs.SET_POSTMORTEM_DEADLINE,
        "timeline_add": verbs.EDIT_POSTMORTEM,
        "timeline_entry": verbs.EDIT_POSTMORTEM,
    }

    def get_queryset(self) -> QuerySet[Postmortem]:
        rows = Postmortem.objects.select_related("incident__severity", "owner", "published_by")
        if self.action == "list":
            return rows
        return rows.prefetch_related(
            "attendees",
            "timeline",
            Prefetch("action_items", queryset=ActionItem.objects.select_related("owner")),
        )

    def get_serializer_class(self):
        return s.PostmortemListSerializer if self.action == "list" else s.PostmortemDetailSerializer

    def _detail(self, pm: Postmortem, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=pm.pk)
        return Response(
            s.PostmortemDetailSerializer(fresh, context=self.get_serializer_context()).data,
            status=code,
        )

    def create(self, request: Request) -> Response:
        data = self._input(s.PostmortemOpenSerializer)
        pm = services.postmortem_open(
            incident=data["incident"], owner=data["owner"], user=request.user
        )
        return self._detail(pm, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        pm = self.get_object()
        data = self._input(s.PostmortemUpdateSerializer)
        services.postmortem_update(postmortem=pm, user=request.user, data=data)
        return self._detail(pm)

    @_responds(s.PostmortemDetailSerializer, request=None, summary="Draft -> in review")
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        pm = self.get_object()
        services.postmortem_submit(postmortem=pm, user=request.user)
        return self._detail(pm)

    @_responds(
        s.PostmortemDetailSerializer, request=s.ReasonSerializer, summary="In review -> draft"
    )
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request: Request, pk: str) -> Response:
        pm = self.get_object()
        services.postmortem_send_back(
            postmortem=pm, user=request.user, **self._input(s.ReasonSerializer)
        )
        return self._detail(pm)

    @_responds(s.PostmortemDetailSerializer, request=None, summary="Publish (incident managers)")
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        pm = self.get_object()
        services.postmortem_publish(postmortem=pm, user=request.user)
        return self._detail(pm)

    @_responds(
        s.PostmortemDetailSerializer, request=s.ReasonSerializer, summary="Re-open a published one"
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        pm = self.get_object()
        services.postmortem_reopen(
            postmortem=pm, user=request.user, **self._input(s.ReasonSerializer)
        )
        return self._detail(pm)

    @_responds(s.PostmortemDetailSerializer, request=s.ReassignSerializer, summary="Hand it over")
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: str) -> Response:
        pm = self.get_object()
        services.postmortem_reassign(
            postmortem=pm, user=request.user, **self._input(s.ReassignSerializer)
        )
        return self._detail(pm)

    @_responds(
        s.PostmortemDetailSerializer, request=s.DeadlineSerializer, summary="Move the deadline"
    )
    @action(detail=True, methods=["post"])
    def deadline(self, request: Request, pk: str) -> Response:
        pm = self.get_object()
        services.postmortem_set_deadline(
            postmortem=pm, user=request.user, **self._input(s.DeadlineSerializer)
        )
        return self._detail(pm)

    @_responds(
        s.PostmortemTimelineEntrySerializer,
        code=201,
        request=s.TimelineEntryWriteSerializer,
        summary="Add a row to its timeline",
    )
    @action(detail=True, methods=["post"], url_path="timeline")
    def timeline_add(self, request: Request, pk: str) -> Response:
        pm = self.get_object()
        entry = services.timeline_entry_add(
            postmortem=pm, user=request.user, data=self._input(s.TimelineEntryWriteSerializer)
        )
        return Response(
            s.PostmortemTimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED
        )

    @_responds(s.PostmortemTimelineEntrySerializer, request=s.TimelineEntryWriteSerializer,
               summary="Edit or star a timeline row (PATCH), or drop it (DELETE)")  # fmt: skip
    @action(
        detail=True, methods=["patch", "delete"], url_path=r"timeline/(?P<entry_id>[0-9]{1,18})"
    )
    def timeline_entry(self, request: Request, pk: str, entry_id: str) -> Response:
        pm = self.get_object()
        entry = PostmortemTimelineEntry.objects.filter(postmortem=pm, pk=int(entry_id)).first()
        if entry is None:
            return Response(
                {"entry_id": [f"No timeline row {entry_id} on this postmortem."]}, status=404
            )
        if request.method == "DELETE":
            services.timeline_entry_remove(entry=entry, user=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = self._input(s.TimelineEntryWriteSerializer)
        entry = services.timeline_entry_update(entry=entry, user=request.user, data=data)
        return Response(s.PostmortemTimelineEntrySerializer(entry).data)

    @extend_schema(summary="The postmortem as Markdown", responses={(200, "text/markdown"): str})
    @action(detail=True, methods=["get"])
    def markdown(self, request: Request, pk: str) -> HttpResponse:
        pm = self.get_object()
        return HttpResponse(export.as_markdown(pm), content_type="text/markdown; charset=utf-8")


@extend_schema_view(
    list=extend_schema(summary="Action items across every postmortem, soonest due first"),
    retrieve=extend_schema(summary="An action item"),
    create=extend_schema(
        summary="Add an action item",
        request=s.ActionItemCreateSerializer,
        responses={201: s.ActionItemSerializer, **REFUSALS},
    ),
    partial_update=extend_schema(
        summary="Change an action item",
        request=s.ActionItemWriteSerializer,
        responses={200: s.ActionItemSerializer, **REFUSALS},
    ),
)
class ActionItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Base):
    serializer_class = s.ActionItemSerializer
    filterset_class = ActionItemFilter
    action_verbs = {
        "list": verbs.VIEW_ACTION_ITEMS,
        "retrieve": verbs.VIEW_ACTION_ITEMS,
        "create": verbs.ADD_ACTION_ITEM,
        "partial_update": verbs.EDIT_ACTION_ITEM,
        "set_status": verbs.EDIT_ACTION_ITEM,
    }

    def get_queryset(self) -> QuerySet[ActionItem]:
        return ActionItem.objects.select_related(
            "postmortem__incident", "owner", "team", "completed_by"
        ).order_by("due_on", "id")

    def _detail(self, item: ActionItem, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=item.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request: Request) -> Response:
        data = self._input(s.ActionItemCreateSerializer)
        postmortem = data.pop("postmortem")
        item = items.action_item_create(user=request.user, postmortem=postmortem, data=data)
        return self._detail(item, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        data = self._input(s.ActionItemWriteSerializer)
        items.action_item_update(item=item, user=request.user, data=data)
        return self._detail(item)

    @_responds(
        s.ActionItemSerializer,
        request=s.ActionItemStatusSerializer,
        summary="Move it along: in progress, done (with evidence), won't do (with a reason)",
    )
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, pk: str) -> Response:
        item = self.get_object()
        items.action_item_set_status(
            item=item, user=request.user, **self._input(s.ActionItemStatusSerializer)
        )
        return self._detail(item)
