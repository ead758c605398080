"""Pages: the record of who was paged about what, when, and who acknowledged. Read-only; the
one thing a person does here is acknowledge (``escalation_acknowledge(via="admin")``), which
the verb table allows (``ACKNOWLEDGE_PAGE``)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils.translation import ngettext

from incidents.models import Incident
from ircore.admin import duration_column
from ircore.errors import RuleError
from ircore.pagination import CappedCountPaginator

from ..models import Page
from ..permissions import ACKNOWLEDGE_PAGE, may
from ..services.escalation import escalation_acknowledge
from .contact import PageAttemptInline

# The filters list this many recent choices (any other id still filters through the URL).
CHOICES = 30


class IncidentFilter(admin.SimpleListFilter):
    title = "incident"
    parameter_name = "incident"

    def lookups(self, request, model_admin):
        recent = Page.objects.order_by("-due_at", "-id").values_list("incident_id", flat=True)[:500]
        ids = list(dict.fromkeys(recent))[:CHOICES]
        rows = Incident.objects.filter(pk__in=ids).only("pk", "reference", "title")
        by_id = {row.pk: row for row in rows}
        return [(str(pk), str(by_id[pk])[:60]) for pk in ids if pk in by_id]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(incident_id=int(value))
        return queryset


class RecipientFilter(admin.SimpleListFilter):
    title = "recipient"
    parameter_name = "recipient"

    def lookups(self, request, model_admin):
        recent = Page.objects.filter(recipient__isnull=False).order_by("-due_at", "-id")
        ids = list(dict.fromkeys(recent.values_list("recipient_id", flat=True)[:500]))[:CHOICES]
        people = get_user_model().objects.filter(pk__in=ids).order_by("username")
        return [(str(p.pk), p.get_full_name() or p.get_username()) for p in people]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(recipient_id=int(value))
        return queryset


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    # The messages each page sent along its person's rules (for who may read contact targets).
    inlines = [PageAttemptInline]
    list_display = [
        "due_at",
        "incident",
        "step",
        "repeat",
        "to",
        "status",
        "is_drill",
        "paged_at",
        "late",
        "acknowledged_by",
        "acknowledged_via",
    ]
    list_filter = ["status", "is_drill", IncidentFilter, RecipientFilter]
    list_select_related = ["incident", "recipient", "endpoint", "acknowledged_by"]
    search_fields = ["incident__reference"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = ["acknowledge"]

    late = duration_column("late_by", "late by")

    @admin.display(description="to")
    def to(self, obj: Page) -> str:
        if obj.recipient_id:
            return obj.recipient.get_full_name() or obj.recipient.get_username()
        return str(obj.endpoint)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_acknowledge_permission(self, request) -> bool:
        return may(request.user, ACKNOWLEDGE_PAGE)

    @admin.action(
        description="Acknowledge (stops the escalation's pending pages)",
        permissions=["acknowledge"],
    )
    def acknowledge(self, request, queryset):
        done = 0
        for page in queryset.select_related("incident"):
            try:
                result = escalation_acknowledge(
                    incident=page.incident, user=request.user, via="admin", page=page
                )
            except RuleError as error:
                self.message_user(
                    request, f"{page.incident.reference}: {error.message}", messages.ERROR
                )
                continue
            done += bool(result.changed)
        self.message_user(
            request,
            ngettext("Acknowledged %d page.", "Acknowledged %d pages.", done) % done,
            messages.SUCCESS if done else messages.WARNING,
        )
