"""The alerts' admin: the list with its filters and the raw payload of each, read-only
(alerts are what the monitors sent; only ingestion writes them), and the incident page's
inline of its alerts, newest first, a page at a time.

Every page costs a fixed number of queries however many alerts there are: the list joins
its columns' rows (``list_select_related``) and never counts the whole table
(``CappedCountPaginator``); the incident filter reads only the incident asked for.
"""

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html

from ircore.pagination import CappedCountPaginator

from ..admin.display import time_columns
from ..admin.paging import PagedInline
from ..admin.records import ReadOnlyAdmin
from ..models import Incident
from .models import Alert

ALERTS_ON_PAGE = 50
TIMES = ["received_at", "last_received_at", "starts_at", "ends_at", "resolved_at"]


def pretty_json(value: Any) -> str:
    """A JSON value indented for reading, escaped (a payload is whatever a monitor sent).
    Indenting is done in Python, which gives up on a nesting the storing (in C) took: then
    the value unindented, or a note that it is nested too deeply to show."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)
    except RecursionError:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except RecursionError:
            text = "(nested too deeply to show)"
    return format_html('<pre class="ir-json ir-wrap">{}</pre>', text)


class IncidentFilter(admin.SimpleListFilter):
    """Alerts of one incident (``?incident=<id>``, the incident page links here), or those
    that declared nothing. Lists no incidents: there may be a million."""

    title = "incident"
    parameter_name = "incident"

    def lookups(self, request, model_admin):
        choices = [("any", "With an incident"), ("none", "No incident")]
        value = self.value()
        if value and value.isdigit():
            reference = (
                Incident.objects.filter(pk=int(value)).values_list("reference", flat=True).first()
            )
            choices.append((value, reference or f"#{value}"))
        return choices

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "any":
            return queryset.filter(incident__isnull=False)
        if value == "none":
            return queryset.filter(incident__isnull=True)
        if value and value.isdigit():
            return queryset.filter(incident_id=int(value))
        return queryset


@admin.register(Alert)
class AlertAdmin(time_columns(Alert, TIMES), ReadOnlyAdmin):
    list_display = [
        "received_at_shown",
        "summary_col",
        "status",
        "integration",
        "service",
        "severity",
        "incident_col",
        "repeat_count",
        "suppressed",
    ]
    list_display_links = ["received_at_shown", "summary_col"]
    list_filter = [
        "integration",
        "status",
        "service",
        "is_drill",
        IncidentFilter,
        # A list filter rather than date_hierarchy, whose year links scan the table.
        ("received_at", admin.DateFieldListFilter),
    ]
    search_fields = ["summary", "dedup_key"]
    list_select_related = ["integration", "service", "severity", "incident", "suppressed_by"]
    ordering = ["-received_at", "-id"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "summary",
                    ("status", "repeat_count", "is_drill"),
                    "integration",
                    ("service", "severity"),
                    "incident_col",
                    "suppressed",
                    ("dedup_key", "fingerprint"),
                ]
            },
        ),
        (
            "Times",
            {"fields": [f"{name}_shown" for name in TIMES] + ["acknowledged_at"]},
        ),
        (
            "What the monitor sent",
            {"fields": ["labels_shown", "annotations_shown", "links_shown", "raw_shown"]},
        ),
    ]
    readonly_fields = [
        "incident_col",
        "suppressed",
        *(f"{name}_shown" for name in TIMES),
        "labels_shown",
        "annotations_shown",
        "links_shown",
        "raw_shown",
    ]

    class Media:
        css = {"all": ["incidents/admin.css"]}

    @admin.display(description="summary", ordering="summary")
    def summary_col(self, obj: Alert) -> str:
        summary = obj.summary if len(obj.summary) <= 120 else obj.summary[:119] + "…"
        return f"DRILL: {summary}" if obj.is_drill else summary

    @admin.display(description="incident", ordering="incident__reference")
    def incident_col(self, obj: Alert) -> str:
        if obj.incident is None:
            return "—"
        url = reverse("admin:incidents_incident_change", args=[obj.incident_id])
        return format_html('<a href="{}">{}</a>', url, obj.incident.reference)

    @admin.display(description="suppressed by")
    def suppressed(self, obj: Alert) -> str:
        window = obj.suppressed_by
        if window is None:
            return "—"
        return f"maintenance: {window.reason}"

    @admin.display(description="labels")
    def labels_shown(self, obj: Alert) -> str:
        return pretty_json(obj.labels)

    @admin.display(description="annotations")
    def annotations_shown(self, obj: Alert) -> str:
        return pretty_json(obj.annotations)

    @admin.display(description="links")
    def links_shown(self, obj: Alert) -> str:
        return pretty_json(obj.links)

    @admin.display(description="raw payload")
    def raw_shown(self, obj: Alert) -> str:
        return pretty_json(obj.raw)


class AlertInline(PagedInline, time_columns(Alert, ["received_at"]), admin.TabularInline):
    """The incident's alerts, newest first, ``ALERTS_ON_PAGE`` a page (``?alerts_page=N``),
    with a link to the alert list filtered to the incident. Read-only."""

    model = Alert
    per_page = ALERTS_ON_PAGE
    page_param = "alerts_page"
    template = "admin/incidents/alerts/alert_inline.html"
    fields = ["received_at_shown", "alert", "status", "integration", "severity", "repeat_count"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "alerts (newest first)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("integration", "severity")
            .order_by("-received_at", "-id")
        )

    @admin.display(description="alert")
    def alert(self, obj: Alert) -> str:
        url = reverse("admin:incidents_alert_change", args=[obj.pk])
        drill = "DRILL: " if obj.is_drill else ""
        return format_html('<a href="{}" class="ir-wrap">{}{}</a>', url, drill, obj.summary)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
