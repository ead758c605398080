"""How people are reached: each person edits their own contact methods and, inline, the
rules that use them ("My contact methods"); someone with the manage right sees and edits
everyone's. The attempts pages make along those rules are a read-only log for managers.

Saving goes through the services (``contact_method_create/update/delete``,
``notification_rule_set``), which check and attribute the change; a refused rule is an error
message and nothing is saved.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.utils.html import format_html_join
from simple_history.admin import SimpleHistoryAdmin

from ircore.admin import DURATION_OVERRIDES, duration_column
from ircore.errors import RuleError
from ircore.pagination import CappedCountPaginator

from ..models import ContactMethod, NotificationRule, PageAttempt
from ..services import contact as services


def _manages(request) -> bool:
    return services.may_manage_contacts(request.user)


def _staff(request) -> bool:
    user = request.user
    return bool(user and user.is_active and user.is_staff)


class NotificationRuleInline(admin.TabularInline):
    model = NotificationRule
    fk_name = "contact_method"
    fields = ["delay"]
    extra = 1
    formfield_overrides = DURATION_OVERRIDES
    verbose_name = "rule: reach me this way this long after a page"
    verbose_name_plural = "rules: after how long (0m = at once; no rules at all = e-mail at once)"

    # Whoever may edit the method may edit its rules; the admin asks the same rule.
    def has_view_permission(self, request, obj=None):
        return _staff(request) and (obj is None or _may(request, obj))

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


def _may(request, method) -> bool:
    return services.may_edit_contacts(request.user, method.user)


@admin.register(ContactMethod)
class ContactMethodAdmin(SimpleHistoryAdmin):
    list_display = ["kind", "target_shown", "label", "rules_col", "user"]
    list_select_related = ["user"]
    list_filter = ["kind"]
    inlines = [NotificationRuleInline]
    show_full_result_count = False
    paginator = CappedCountPaginator

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related("rules")
        return queryset if _manages(request) else queryset.filter(user=request.user)

    def get_fields(self, request, obj=None):
        mine = ["kind", "target", "label"]
        return ["user", *mine] if _manages(request) else mine

    def get_list_display(self, request):
        shown = list(self.list_display)
        return shown if _manages(request) else shown[:-1]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changelist_view(self, request, extra_context=None):
        title = "Contact methods" if _manages(request) else "My contact methods"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @admin.display(description="target", ordering="target")
    def target_shown(self, obj):
        return obj.shown_target

    @admin.display(description="rules")
    def rules_col(self, obj):
        rules = sorted(obj.rules.all(), key=lambda rule: rule.delay)  # prefetched
        if not rules:
            return "-"
        return format_html_join(", ", "{}", ((services.delay_words(r.delay),) for r in rules))

    # Every member of staff has their own methods; the rows they may touch are their own.
    def has_module_permission(self, request):
        return _staff(request)

    def has_view_permission(self, request, obj=None):
        return _staff(request) and (obj is None or _may(request, obj))

    has_change_permission = has_delete_permission = has_view_permission

    def has_add_permission(self, request):
        return _staff(request)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleError as error:
            self.message_user(request, f"Nothing was saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.contact_method_update(
                method=obj,
                kind=data["kind"],
                target=data["target"],
                label=data["label"],
                by=request.user,
            )
        else:
            saved = services.contact_method_create(
                user=data.get("user") or request.user,
                kind=data["kind"],
                target=data["target"],
                label=data["label"],
                by=request.user,
            )
        obj.pk, obj.user_id = saved.pk, saved.user_id
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        """The method's rules from the inline, the person's other rules as they are."""
        method = form.instance
        delays = [
            row.cleaned_data["delay"]
            for row in formset.forms
            if row.cleaned_data
            and not row.cleaned_data.get("DELETE")
            and row.cleaned_data.get("delay") is not None
        ]
        others = NotificationRule.objects.filter(user_id=method.user_id).exclude(
            contact_method=method
        )
        rules = [
            (rule.contact_method, rule.delay) for rule in others.select_related("contact_method")
        ]
        services.notification_rule_set(
            user=method.user,
            rules=[*rules, *((method, delay) for delay in delays)],
            by=request.user,
        )
        # What the admin's change message reads from a saved formset.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        services.contact_method_delete(method=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for method in queryset.select_related("user"):
            services.contact_method_delete(method=method, by=request.user)


class PageAttemptInline(admin.TabularInline):
    """A page's attempts, read-only, for the page's own admin page."""

    model = PageAttempt
    fields = ["kind", "target_shown", "delay_col", "due_at", "sent_at", "delivery", "stop_reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="target")
    def target_shown(self, obj):
        return _attempt_target(obj)

    delay_col = duration_column("delay", "after")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("delivery")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _attempt_target(attempt) -> str:
    if attempt.kind == ContactMethod.Kind.WEBHOOK and "://" in attempt.target:
        return ContactMethod(kind=attempt.kind, target=attempt.target).shown_target
    return attempt.target


@admin.register(PageAttempt)
class PageAttemptAdmin(admin.ModelAdmin):
    """Each message a page sent, or will send, along its person's rules: a log."""

    list_display = [
        "page_incident",
        "page_recipient",
        "kind",
        "target_shown",
        "delay_col",
        "state_col",
        "due_at",
        "sent_at",
        "delivery_status",
        "stop_reason",
    ]
    list_select_related = ["page__incident", "page__recipient", "delivery"]
    list_filter = ["kind"]
    search_fields = ["page__incident__reference"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    readonly_fields = [
        "page",
        "rule",
        "kind",
        "target_shown",
        "delay",
        "due_at",
        "sent_at",
        "stopped_at",
        "stop_reason",
        "delivery",
        "created_at",
    ]
    fields = readonly_fields
    delay_col = duration_column("delay", "after")

    @admin.display(description="incident", ordering="page__incident__reference")
    def page_incident(self, obj):
        return obj.page.incident.reference

    @admin.display(description="recipient", ordering="page__recipient__username")
    def page_recipient(self, obj):
        return obj.page.recipient

    @admin.display(description="target")
    def target_shown(self, obj):
        return _attempt_target(obj)

    @admin.display(description="state")
    def state_col(self, obj):
        return obj.state

    @admin.display(description="delivery")
    def delivery_status(self, obj):
        return obj.delivery.get_status_display() if obj.delivery_id else "-"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
