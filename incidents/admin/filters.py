"""Change list filters for incidents."""

from django.contrib import admin

from ..models import (
    Incident,
)


class OpenStateFilter(admin.SimpleListFilter):
    """Open, resolved or closed; unfiltered by default (the list puts open ones first)."""

    title = "open / resolved / closed"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved"), ("closed", "Closed")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.open()
        if value == "resolved":
            return queryset.filter(status=Incident.Status.RESOLVED)
        if value == "closed":
            return queryset.filter(status=Incident.Status.CLOSED)
        return queryset


# --- inlines -------------------------------------------------------------------------------
