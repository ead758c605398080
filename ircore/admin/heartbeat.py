"""The periodic jobs' heartbeats, read-only: what /healthz reads to say the clock is alive."""

from django.contrib import admin

from ircore.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    """Read-only: rows are written by the periodic jobs themselves."""

    list_display = ("name", "last_seen", "is_stale")
    ordering = ("name",)

    @admin.display(description="Stale", boolean=True)
    def is_stale(self, obj: Heartbeat) -> bool:
        return obj.stale

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
