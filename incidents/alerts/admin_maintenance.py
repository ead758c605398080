"""Maintenance windows in the admin: planned work on a service, created through
``maintenance_window_create`` (which puts the window on the timeline of every incident it
overlaps). A window is a record once made: alerts it suppressed point at it, so the admin
neither edits nor deletes one (ending one early needs a service that says so on the
timelines too)."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from ircore.errors import RuleError

from ..admin.display import time_columns
from ..admin.inlines import _no_policy_editing_from_here
from .admin_forms import MaintenanceWindowForm
from .models import MaintenanceWindow
from .services import maintenance_window_create


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(
    time_columns(MaintenanceWindow, ["start", "end", "created_at"]), admin.ModelAdmin
):
    form = MaintenanceWindowForm
    list_display = ["service", "start_shown", "end_shown", "reason", "created_by"]
    list_filter = ["service", ("start", admin.DateFieldListFilter)]
    search_fields = ["reason", "service__name"]
    list_select_related = ["service", "created_by"]
    ordering = ["-start", "-id"]
    show_full_result_count = False
    readonly_fields = ["start_shown", "end_shown", "created_by", "created_at_shown"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["service", "start", "end", "reason"]
        return ["service", "start_shown", "end_shown", "reason", "created_by", "created_at_shown"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        _no_policy_editing_from_here(field)
        return field

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj: MaintenanceWindow, form, change: bool) -> None:
        window = maintenance_window_create(
            service=obj.service,
            start=obj.start,
            end=obj.end,
            reason=obj.reason,
            user=request.user,
        )
        obj.pk = window.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        return None  # no relations of its own to save; the service saved everything

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except RuleError as error:
            self.message_user(request, f"Nothing was saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
