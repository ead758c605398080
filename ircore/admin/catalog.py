"""The catalog: teams and the services they own."""

from django.contrib import admin
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from ircore.models import Service, Team


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ("name", "lead", "manager", "chat_channel", "member_count")
    list_select_related = ("lead", "manager")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("lead", "manager")
    filter_horizontal = ("members",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_members=Count("members"))

    @admin.display(description="Members", ordering="n_members")
    def member_count(self, obj: Team) -> int:
        return obj.n_members


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "team", "tier", "public")
    list_filter = ("tier", "public", "team")
    list_select_related = ("team",)
    search_fields = ("name", "slug", "public_name", "description")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("team",)
