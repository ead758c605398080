"""Status page subscribers in the admin: incident managers see and remove them, support
staff see them. Nobody adds or edits one here: a subscription is its subscriber's own
consent (double opt-in), so it starts and changes only through the public form's links."""

from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from comms.models import Subscriber
from comms.services import subscribers
from ircore.pagination import CappedCountPaginator


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"
    CONDITIONS = {
        "pending": Q(confirmed_at__isnull=True, unsubscribed_at__isnull=True),
        "confirmed": Q(confirmed_at__isnull=False, unsubscribed_at__isnull=True),
        "unsubscribed": Q(unsubscribed_at__isnull=False),
    }

    def lookups(self, request, model_admin):
        return [(key, key.title()) for key in self.CONDITIONS]

    def queryset(self, request, queryset):
        condition = self.CONDITIONS.get(self.value())
        return queryset.filter(condition) if condition is not None else queryset


@admin.register(Subscriber)
class SubscriberAdmin(SimpleHistoryAdmin):
    list_display = ["target", "kind", "state", "follows", "created_at", "confirmed_at"]
    list_filter = [StateFilter, "kind", "all_components"]
    search_fields = ["target"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = [
        "kind",
        "target",
        "state",
        "follows",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "confirmation_sent_at",
    ]
    readonly_fields = fields
    actions = ["remove_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("components")

    @admin.display(description="state")
    def state(self, obj):
        return obj.state

    @admin.display(description="follows")
    def follows(self, obj):
        if obj.all_components:
            return "All components"
        return ", ".join(c.display_public_name for c in obj.components.all()) or "-"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Django's own bulk delete skips the service (and its history attribution).
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj):
        subscribers.subscriber_remove(subscriber=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for subscriber in queryset:
            subscribers.subscriber_remove(subscriber=subscriber, user=request.user)

    @admin.action(description="Remove selected subscribers", permissions=["delete"])
    def remove_selected(self, request, queryset):
        count = 0
        for subscriber in queryset:
            subscribers.subscriber_remove(subscriber=subscriber, user=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("Removed %d subscriber.", "Removed %d subscribers.", count) % count,
            messages.SUCCESS,
        )
