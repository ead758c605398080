"""The incident page's inlines; each saves through a service."""

from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.db.models import F

from ..forms import (
    ChecklistItemInlineForm,
)
from ..models import (
    ChecklistItem,
    IncidentService,
    RoleAssignment,
    TimelineEntry,
)


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


class RoleInline(admin.TabularInline):
    """Who held which role when, current holders first; roles change with "Assign role"."""

    model = RoleAssignment
    fields = ["role", "user", "current", "assigned_at", "relieved_at", "assigned_by"]
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


class ChecklistInline(admin.TabularInline):
    """Tick or untick with the checkbox; ``checklist_tick`` records who and when."""

    model = ChecklistItem
    form = ChecklistItemInlineForm
    fields = ["text", "done", "done_by", "done_at"]
    readonly_fields = ["text", "done_by", "done_at"]
    extra = 0
    can_delete = False
    verbose_name_plural = "checklist"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("done_by").order_by("position", "id")

    def has_add_permission(self, request, obj=None):
        return False  # items come from the severity's checklist

    def has_delete_permission(self, request, obj=None):
        return False


class TimelineInline(admin.TabularInline):
    """Everything that happened, newest first; add to it with the note form above."""

    model = TimelineEntry
    fields = ["occurred_at", "kind", "author", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "timeline (newest first)"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("author").order_by("-occurred_at", "-id")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
