"""Maintenance windows in the admin: planned work on a service, created through
``maintenance_window_create`` (which puts the window on the timeline of every incident it
overlaps). A window is a record once made: alerts it suppressed point at it, so the admin
neither edits nor deletes one; the action "End the selected windows now" ends one that has
started early, through ``maintenance_window_end`` (which says so on those timelines)."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from ircore.errors import RuleError
from ircore.verbs import Verb, may, register

from ..admin.display import time_columns
from ..admin.inlines import _no_policy_editing_from_here
from .admin_forms import MaintenanceWindowForm
from .models import MaintenanceWindow
from .services import maintenance_window_create, maintenance_window_end

END_MAINTENANCE = "end_maintenance_window"
register(
    Verb(
        END_MAINTENANCE,
        # Who schedules a window (their own deploys) may end it when the work is done.
        ("incidents.add_maintenancewindow",),
        "End a maintenance window early.",
        on_closed=True,  # a verb on no incident
    )
)


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
    actions = ["end_now"]

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

    def has_end_permission(self, request) -> bool:
        return may(request.user, END_MAINTENANCE)

    @admin.action(description="End the selected windows now", permissions=["end"])
    def end_now(self, request, queryset) -> None:
        ended = 0
        for window in queryset.select_related("service"):
            try:
                maintenance_window_end(window=window, user=request.user)
            except RuleError as error:
                self.message_user(request, f"{window}: {error.message}", messages.ERROR)
            else:
                ended += 1
        if ended:
            plural = "s" if ended != 1 else ""
            self.message_user(request, f"Ended {ended} window{plural} now.", messages.SUCCESS)

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
