"""Runbooks, threshold crossings and the timeline: their own admin pages."""

from django.contrib import admin
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from ..markdown import render_markdown
from ..models import (
    Runbook,
    ThresholdCrossing,
    TimelineEntry,
)
from .display import note_html, time_columns

# --- runbooks, threshold crossings, timeline -------------------------------------------------


@admin.register(Runbook)
class RunbookAdmin(time_columns(Runbook, ["updated_at"]), SimpleHistoryAdmin):
    list_display = ["title", "slug", "services_col", "types_col", "updated_at_shown"]
    list_filter = ["services", "incident_types"]
    search_fields = ["title", "slug", "body"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["services", "incident_types"]
    readonly_fields = ["preview", "updated_at_shown"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "services", "incident_types", "body"]}),
        ("Preview (as saved)", {"fields": ["preview", "updated_at_shown"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("services", "incident_types")

    @admin.display(description="services")
    def services_col(self, obj: Runbook) -> str:
        return ", ".join(s.name for s in obj.services.all()) or "—"

    @admin.display(description="incident types")
    def types_col(self, obj: Runbook) -> str:
        return ", ".join(t.name for t in obj.incident_types.all()) or "—"

    @admin.display(description="rendered")
    def preview(self, obj: Runbook) -> str:
        if obj.pk is None:
            return "Save to see the rendered runbook."
        return format_html('<div class="ir-markdown">{}</div>', render_markdown(obj.body))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services: the admin shows them and changes nothing."""

    change_form_template = "admin/incidents/readonly_change_form.html"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ThresholdCrossing)
class ThresholdCrossingAdmin(time_columns(ThresholdCrossing, ["crossed_at"]), ReadOnlyAdmin):
    list_display = ["incident", "threshold", "amount", "crossed_at_shown"]
    list_select_related = ["incident", "threshold"]
    search_fields = ["incident__reference"]
    date_hierarchy = "crossed_at"
    show_full_result_count = False


@admin.register(TimelineEntry)
class TimelineEntryAdmin(time_columns(TimelineEntry, ["occurred_at"]), ReadOnlyAdmin):
    """The whole timeline (the incident page shows the newest entries and links here,
    filtered to the incident with ``?incident__id__exact=``); notes render as Markdown."""

    list_display = ["occurred_at_shown", "incident_ref", "kind", "author", "short_text"]
    list_filter = ["kind"]
    search_fields = ["text", "incident__reference"]
    list_select_related = ["incident", "author"]
    ordering = ["-occurred_at", "-id"]
    show_full_result_count = False
    fields = ["incident", "kind", "occurred_at_shown", "author", "text_shown", "data"]
    readonly_fields = ["occurred_at_shown", "text_shown"]

    class Media:
        css = {"all": ["incidents/admin.css"]}  # the list's note wrapping and Markdown

    @admin.display(description="incident", ordering="incident__reference")
    def incident_ref(self, obj: TimelineEntry) -> str:
        return obj.incident.reference

    @admin.display(description="text")
    def short_text(self, obj: TimelineEntry) -> str:
        text = obj.text if len(obj.text) <= 120 else obj.text[:119] + "…"
        return note_html(text)

    @admin.display(description="text")
    def text_shown(self, obj: TimelineEntry) -> str:
        return note_html(obj.text)
