"""Escalation policies, with their steps inline. A step whose target lacks the field it needs
is a form error on that field (``EscalationStep.clean``); the database refuses it too. And
the escalations in flight, read-only: which plan each incident follows and when it is next
due (the engine writes them)."""

from django.contrib import admin
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from ircore.admin import DURATION_OVERRIDES
from ircore.pagination import CappedCountPaginator

from ..models import Escalation, EscalationPolicy, EscalationStep


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0
    formfield_overrides = DURATION_OVERRIDES
    fields = [
        "position",
        "delay",
        "unless",
        "severities",
        "target",
        "layer",
        "user",
        "team",
        "role",
        "endpoint",
    ]
    autocomplete_fields = ["layer"]
    filter_horizontal: list[str] = []
    ordering = ["position", "id"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("layer__schedule", "user", "team", "endpoint")
            .prefetch_related("severities")
        )


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "service", "team", "is_default", "step_count", "repeats"]
    list_select_related = ["service", "team"]
    list_filter = ["is_default", "team"]
    search_fields = ["name", "description"]
    inlines = [EscalationStepInline]
    formfield_overrides = DURATION_OVERRIDES
    fieldsets = [
        (None, {"fields": ["name", "description", "service", "team", "is_default"]}),
        (
            "Repeat",
            {
                "fields": ["repeat_last", "repeat_times", "repeat_after"],
                "description": (
                    "Round k of a repeated step is due at its delay + k × (the repeated steps' "
                    "span + the gap): each round starts the gap after the previous round's "
                    "last step."
                ),
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(steps_count=Count("steps"))

    @admin.display(description="steps", ordering="steps_count")
    def step_count(self, obj) -> int:
        return obj.steps_count

    @admin.display(description="repeat")
    def repeats(self, obj) -> str:
        if not (obj.repeat_last and obj.repeat_times):
            return "—"
        return f"last {obj.repeat_last} × {obj.repeat_times}"


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["incident", "policy", "started_at", "next_escalation_at", "last_tick_at"]
    list_select_related = ["incident", "policy"]
    search_fields = ["incident__reference"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ["-started_at", "-id"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
