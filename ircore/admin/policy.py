"""The policy rows: severities (with their checklists, and the policy file's views),
incident types and financial thresholds."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Count, Q
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from ircore.models import ChecklistTemplateItem, FinancialThreshold, IncidentType, Severity
from ircore.policy import SEVERITY_FIELDS

from .durations import DURATION_OVERRIDES, duration_column
from .policy_file import PolicyFileViews


class ChecklistTemplateItemInline(admin.TabularInline):
    model = ChecklistTemplateItem
    fields = ("position", "text")
    ordering = ("position", "id")
    extra = 1


class SeverityForm(forms.ModelForm):
    class Meta:
        model = Severity
        # The same fields, in the same order, as a severity in the policy file.
        fields = tuple(f for f in SEVERITY_FIELDS if f != "checklist")
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}


@admin.register(Severity)
class SeverityAdmin(PolicyFileViews, SimpleHistoryAdmin):
    form = SeverityForm
    list_display = (
        "key",
        "name",
        "rank",
        "swatch",
        "ack",
        "resolve",
        "page_immediately",
    )
    list_display_links = ("key", "name")
    search_fields = ("key", "name")
    ordering = ("rank",)
    inlines = (ChecklistTemplateItemInline,)
    formfield_overrides = DURATION_OVERRIDES
    fieldsets = (
        (None, {"fields": ("key", "rank", "name", "colour", "definition", "examples")}),
        (
            "Targets",
            {
                "fields": (
                    "ack_target",
                    "resolve_target",
                    "internal_update_every",
                    "customer_update_every",
                )
            },
        ),
        (
            "Who responds",
            {"fields": ("page_immediately", "who_is_paged", "executive_sponsor_required")},
        ),
        ("Postmortem", {"fields": ("postmortem_required", "postmortem_due")}),
    )

    ack = duration_column("ack_target", "Ack target")
    resolve = duration_column("resolve_target", "Resolve target")

    @admin.display(description="Colour", ordering="colour")
    def swatch(self, obj: Severity):
        return format_html(
            '<span style="display:inline-block;width:1em;height:1em;vertical-align:middle;'
            'border:1px solid #0004;background:{}"></span> {}',
            obj.colour,
            obj.colour,
        )


@admin.register(IncidentType)
class IncidentTypeAdmin(SimpleHistoryAdmin):
    list_display = ("name", "key", "regulatory_notification_hours", "security_checkpoints")
    list_filter = ("security_checkpoints",)
    search_fields = ("key", "name")
    prepopulated_fields = {"key": ("name",)}


class FinancialThresholdForm(forms.ModelForm):
    class Meta:
        model = FinancialThreshold
        fields = ("amount", "audience", "notify_users", "notify_emails")

    def clean_notify_emails(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["notify_emails"].splitlines()]
        lines = [line for line in lines if line]
        for line in lines:
            try:
                validate_email(line)
            except ValidationError:
                raise ValidationError(
                    f"“{line}” is not an email address (one address per line).", code="invalid"
                ) from None
        return "\n".join(lines)


# Crossing a threshold notifies its users and addresses; with neither, nobody hears of it.
NOBODY_WARNING = (
    "Nobody is notified when an incident crosses {threshold}: it has no users to notify "
    "and no e-mail addresses. Add at least one, or the crossing is only recorded."
)
# No user linked, and the address list blank (whitespace only counts as blank).
_NO_RECIPIENTS = Q(n_users=0) & Q(notify_emails__regex=r"^\s*$")


@admin.register(FinancialThreshold)
class FinancialThresholdAdmin(SimpleHistoryAdmin):
    form = FinancialThresholdForm
    list_display = ("amount", "audience", "recipients")
    search_fields = ("audience",)
    filter_horizontal = ("notify_users",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_users=Count("notify_users"))

    @admin.display(description="Who is notified", ordering="n_users")
    def recipients(self, obj: FinancialThreshold):
        emails = len(obj.email_list)
        if not obj.n_users and not emails:
            return format_html('<strong class="ir-nobody">{}</strong>', "⚠ Nobody")
        parts = []
        if obj.n_users:
            parts.append(f"{obj.n_users} user{'s' if obj.n_users != 1 else ''}")
        if emails:
            parts.append(f"{emails} address{'es' if emails != 1 else ''}")
        return ", ".join(parts)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            nobody = self.get_queryset(request).filter(_NO_RECIPIENTS).order_by("amount")
            amounts = [f"{t.amount:,.0f}" for t in nobody[:6]]
            if amounts:
                shown = ", ".join(amounts[:5]) + (", ..." if len(amounts) > 5 else "")
                self.message_user(
                    request,
                    f"Nobody is notified when an incident crosses {shown}: "
                    "those thresholds have no users to notify and no e-mail addresses.",
                    messages.WARNING,
                )
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, object_id)
            if obj is not None and not obj.n_users and not obj.email_list:
                threshold = f"{obj.amount:,.0f} ({obj.audience})"
                self.message_user(
                    request, NOBODY_WARNING.format(threshold=threshold), messages.WARNING
                )
        return super().change_view(request, object_id, form_url, extra_context)
