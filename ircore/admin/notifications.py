"""Admin for notification endpoints and the delivery log.

Not registered at import: ``ircore.admin`` calls ``register(admin.site)`` (a test site can too).
"""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from ircore import notifications
from ircore.errors import RuleError
from ircore.models import Delivery, NotificationEndpoint
from ircore.pagination import CappedCountPaginator


class NotificationEndpointAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "target", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "target"]
    actions = ["send_test_message"]

    @admin.action(description="Send a test message", permissions=["change"])
    def send_test_message(self, request, queryset):
        when = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
        sent = 0
        for endpoint in queryset:
            delivery = notifications.notify_endpoint(
                endpoint=endpoint,
                subject=f"Test message from incident response: {endpoint.name}",
                body=f"Sent by {request.user.get_username()} from the admin at {when}.",
                topic="test",
            )
            if delivery.status == Delivery.Status.FAILED:
                self.message_user(
                    request, f"{endpoint.name}: {delivery.last_error}", messages.ERROR
                )
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                ngettext(
                    "Queued %d test message; its fate is in the delivery log.",
                    "Queued %d test messages; their fate is in the delivery log.",
                    sent,
                )
                % sent,
                messages.SUCCESS,
            )


class DeliveryAdmin(admin.ModelAdmin):
    """A read-only log; the only thing a person does here is retry a failed message."""

    list_display = [
        "created_at",
        "channel",
        "target_col",
        "recipient",
        "subject",
        "status",
        "attempts",
        "short_error",
        "sent_at",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["target", "subject", "topic"]
    list_select_related = ["recipient"]
    # COUNT(*) over the whole log on every page view is what makes big logs slow.
    show_full_result_count = False
    # Counts at most 10,001 rows (or the planner's estimate): flat at a million rows.
    paginator = CappedCountPaginator
    actions = ["retry_now"]

    @admin.display(description="target", ordering="target")
    def target_col(self, obj):
        """The safe default; ``get_list_display`` swaps in the viewer's own column."""
        return obj.shown_target

    def get_list_display(self, request):
        target = _target_column(request)
        return [target if name == "target_col" else name for name in self.list_display]

    def get_readonly_fields(self, request, obj=None):
        fields: list = [field.name for field in self.model._meta.fields]
        if not _reveals_targets(request):
            fields[fields.index("target")] = _target_column(request)
        return fields

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def get_search_fields(self, request):
        # Searching by the full URL would let a reader probe the secret part.
        return self.search_fields if _reveals_targets(request) else ["subject", "topic"]

    # A log: written by the services only, so nobody adds, edits or deletes rows by hand.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.retry_delivery")

    @admin.display(description="last error", ordering="last_error")
    def short_error(self, obj):
        return obj.last_error[:120] + ("…" if len(obj.last_error) > 120 else "")

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request, queryset):
        retried = skipped = 0
        for delivery in queryset:
            try:
                notifications.retry_now(delivery=delivery)
            except RuleError:  # not failed: already sent or on its way
                skipped += 1
            else:
                retried += 1
        if retried:
            self.message_user(
                request,
                ngettext("Queued %d delivery again.", "Queued %d deliveries again.", retried)
                % retried,
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d delivery was not failed and was left as it is.",
                    "%d deliveries were not failed and were left as they are.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )


def _reveals_targets(request) -> bool:
    """Whole webhook URLs only for those who may manage endpoints."""
    return request.user.has_perm("ircore.change_notificationendpoint")


def _target_column(request):
    """The target column for this request's viewer (built per request: a ModelAdmin is shared
    by every request, so it must not remember who is looking)."""
    reveal = _reveals_targets(request)

    @admin.display(description="target", ordering="target")
    def target(obj):
        return obj.target if reveal else obj.shown_target

    return target


def register(site: admin.AdminSite) -> None:
    site.register(NotificationEndpoint, NotificationEndpointAdmin)
    site.register(Delivery, DeliveryAdmin)
