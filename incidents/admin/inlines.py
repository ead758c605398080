"""The incident page's inlines; each saves through a service."""

from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.db.models import F
from django.utils.html import format_html, format_html_join

from .. import permissions as verbs
from ..forms import (
    ChecklistItemInlineForm,
)
from ..models import (
    ChecklistItem,
    IncidentService,
    RoleAssignment,
    TimelineEntry,
)
from .access import allowed
from .display import note_html, time_columns
from .paging import PagedInline

# The incident page shows this many timeline entries a page, newest first, with page links
# and a link to the timeline's own list: an alert storm can write thousands.
TIMELINE_ON_PAGE = 50


def _no_policy_editing_from_here(field) -> None:
    """Drop the add/change/delete shortcuts next to policy and catalog selects: an incident
    page is no place to delete a service or an incident type."""
    widget = getattr(field, "widget", None)
    if isinstance(widget, RelatedFieldWidgetWrapper):
        widget.can_add_related = widget.can_change_related = widget.can_delete_related = False


class AffectedServiceInline(admin.TabularInline):
    """Saved through ``affected_service_set/remove`` (see ``IncidentAdmin.save_formset``)."""

    model = IncidentService
    fields = ["service", "status"]
    extra = 0
    verbose_name_plural = "affected services"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        _no_policy_editing_from_here(field)
        return field

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Read the services once for every row's <select>; each row would query them again.
        field = formset.form.base_fields["service"]
        field.choices = list(field.choices)
        return formset

    # Adding, changing and removing affected services are verbs (the verb table), not the
    # incident's change permission; a closed incident takes none of them.
    def has_add_permission(self, request, obj=None):
        return allowed(request.user, verbs.SET_SERVICE, obj)

    def has_change_permission(self, request, obj=None):
        return allowed(request.user, verbs.SET_SERVICE, obj)

    def has_delete_permission(self, request, obj=None):
        return allowed(request.user, verbs.REMOVE_SERVICE, obj)


class RoleInline(time_columns(RoleAssignment, ["assigned_at", "relieved_at"]), admin.TabularInline):
    """Who held which role when, current holders first; roles change with "Assign role"."""

    model = RoleAssignment
    fields = ["role", "user", "current", "assigned_at_shown", "relieved_at_shown", "assigned_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "roles (current holders first)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user", "assigned_by")
            .order_by(F("relieved_at").desc(nulls_first=True), "role", "-assigned_at")
        )

    @admin.display(boolean=True)
    def current(self, obj: RoleAssignment) -> bool:
        return obj.is_current

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChecklistInline(time_columns(ChecklistItem, ["done_at"]), admin.TabularInline):
    """Tick or untick with the checkbox; ``checklist_tick`` records who and when."""

    model = ChecklistItem
    form = ChecklistItemInlineForm
    fields = ["text", "done", "done_by", "done_at_shown"]
    readonly_fields = ["text", "done_by", "done_at_shown"]
    extra = 0
    can_delete = False
    verbose_name_plural = "checklist"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("done_by").order_by("position", "id")

    def has_add_permission(self, request, obj=None):
        return False  # items come from the severity's checklist

    def has_change_permission(self, request, obj=None):
        # Ticking is its own verb: it needs no right to edit the incident's details.
        return allowed(request.user, verbs.TICK, obj)

    def has_delete_permission(self, request, obj=None):
        return False


def alert_links_html(entry: TimelineEntry) -> str:
    """The links of the alerts an ``alert`` entry records (the monitor's ``generatorURL``,
    the ``runbook_url`` annotation, an event's ``links``), as anchors: http(s) only, for a
    monitor may send anything."""
    data = entry.data if entry.kind == TimelineEntry.Kind.ALERT else None
    links = data.get("links") if isinstance(data, dict) else None
    if not isinstance(links, list):
        return ""
    shown = [
        (link["href"], link.get("text") or link["href"])
        for link in links
        if isinstance(link, dict)
        and isinstance(link.get("href"), str)
        and link["href"].lower().startswith(("http://", "https://"))
    ]
    if not shown:
        return ""
    anchors = format_html_join(
        " · ", '<a href="{}" rel="noopener noreferrer" class="ir-wrap">{}</a>', shown
    )
    return format_html('<div class="ir-alert-links">{}</div>', anchors)


class TimelineInline(
    PagedInline, time_columns(TimelineEntry, ["occurred_at"]), admin.TabularInline
):
    """What happened, newest first, ``TIMELINE_ON_PAGE`` entries a page (``?timeline_page=N``,
    with a link to the whole timeline); notes render as sanitised Markdown. Add to it with
    the note form."""

    model = TimelineEntry
    per_page = TIMELINE_ON_PAGE
    page_param = "timeline_page"
    template = "admin/incidents/incident/timeline_inline.html"
    fields = ["occurred_at_shown", "kind", "author", "text_shown"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "timeline (newest first)"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("author").order_by("-occurred_at", "-id")
        )

    @admin.display(description="text")
    def text_shown(self, obj: TimelineEntry) -> str:
        return format_html("{}{}", note_html(obj.text), alert_links_html(obj))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
