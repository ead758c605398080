"""The record of updates due (``UpdateDue``): read-only, written by the cadence clock and the
publishing of notices (``comms.services.cadence``); the admin lists what was owed and what
became of it, with "overdue now" and drill filters."""

from django.contrib import admin
from django.utils import timezone

from incidents.admin.display import humanise, time_columns
from incidents.admin.records import ReadOnlyAdmin

from ..models import UpdateDue


class OverdueFilter(admin.SimpleListFilter):
    """Pending and past due now: the updates someone owes at this moment."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue now")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue(timezone.now())
        return queryset


class DrillFilter(admin.SimpleListFilter):
    """Real incidents or drills (the figures count real ones only)."""

    title = "drill"
    parameter_name = "drill"

    def lookups(self, request, model_admin):
        return [("real", "Real incidents"), ("drill", "Drills")]

    def queryset(self, request, queryset):
        if self.value() in ("real", "drill"):
            return queryset.filter(incident__is_drill=self.value() == "drill")
        return queryset


@admin.register(UpdateDue)
class UpdateDueAdmin(time_columns(UpdateDue, ["due_at", "sent_at", "reminded_at"]), ReadOnlyAdmin):
    list_display = [
        "due_at_shown",
        "incident_ref",
        "audience",
        "every",
        "outcome",
        "sent_at_shown",
        "reminded_at_shown",
        "drill",
    ]
    list_filter = ["outcome", "audience", OverdueFilter, DrillFilter]
    list_select_related = ["incident"]
    search_fields = ["incident__reference"]
    ordering = ["-due_at", "-id"]
    show_full_result_count = False
    fields = [
        "incident",
        "audience",
        "due_at_shown",
        "every",
        "outcome",
        "sent_at_shown",
        "notice",
        "reminded_at_shown",
    ]
    readonly_fields = ["due_at_shown", "every", "sent_at_shown", "reminded_at_shown"]

    @admin.display(description="incident", ordering="incident__reference")
    def incident_ref(self, obj: UpdateDue) -> str:
        return obj.incident.reference

    @admin.display(description="every", ordering="period")
    def every(self, obj: UpdateDue) -> str:
        return humanise(obj.period)

    @admin.display(description="drill", boolean=True, ordering="incident__is_drill")
    def drill(self, obj: UpdateDue) -> bool:
        return obj.incident.is_drill
