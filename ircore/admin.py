"""Admin for the policy (severities, types, thresholds), the catalog (teams, services) and
people (profiles, and Django's user admin with the profile inline)."""

import functools
import zoneinfo

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import BooleanField, Case, Count, Q, Value, When
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .admin_notifications import register as register_notifications
from .models import (
    ChecklistTemplateItem,
    FinancialThreshold,
    Heartbeat,
    IncidentType,
    Profile,
    Service,
    Severity,
    Team,
)
from .policy import DURATION_HINT, SEVERITY_FIELDS, format_duration, parse_duration

# --- Form pieces ---


class HumanDurationField(forms.Field):
    """A duration typed as in the policy file ("15m", "4h", "2d", "1h30m"); empty: none."""

    widget = forms.TextInput(attrs={"placeholder": "e.g. 15m, 4h, 2d", "size": 10})

    def __init__(self, *, max_length=None, **kwargs):
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if hasattr(value, "total_seconds"):
            return format_duration(value)
        return value

    def to_python(self, value):
        try:
            return parse_duration(value)
        except ValueError:
            raise ValidationError(
                f"“{value}” is not a duration ({DURATION_HINT}).", code="invalid"
            ) from None


DURATION_OVERRIDES = {models.DurationField: {"form_class": HumanDurationField}}


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = (
            "user",
            "chat_handle",
            "phone",
            "time_zone",
            "ic_certified_on",
            "ic_certification_expires",
        )

    def clean_time_zone(self) -> str:
        value = (self.cleaned_data.get("time_zone") or "").strip()
        if value not in _time_zones():
            raise ValidationError(
                f"Time zone “{value}” is not known; use an IANA name such as Europe/London.",
                code="invalid",
            )
        return value


def _duration_column(field: str, label: str):
    @admin.display(description=label, ordering=field)
    def column(self, obj):
        return format_duration(getattr(obj, field)) or "-"

    return column


# --- Policy ---


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
class SeverityAdmin(SimpleHistoryAdmin):
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

    ack = _duration_column("ack_target", "Ack target")
    resolve = _duration_column("resolve_target", "Resolve target")

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


@admin.register(FinancialThreshold)
class FinancialThresholdAdmin(SimpleHistoryAdmin):
    form = FinancialThresholdForm
    list_display = ("amount", "audience", "recipients")
    search_fields = ("audience",)
    filter_horizontal = ("notify_users",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_users=Count("notify_users"))

    @admin.display(description="Users notified", ordering="n_users")
    def recipients(self, obj: FinancialThreshold) -> int:
        return obj.n_users


# --- Catalog ---


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


# --- People ---


class CertificationFilter(admin.SimpleListFilter):
    title = "IC certification"
    parameter_name = "certification"

    def lookups(self, request, model_admin):
        return (("certified", "Certified"), ("expired", "Expired"), ("none", "Never certified"))

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "certified":
            return queryset.filter(_certified_q(today))
        if self.value() == "expired":
            return queryset.filter(
                ic_certified_on__isnull=False, ic_certification_expires__lt=today
            )
        if self.value() == "none":
            return queryset.filter(ic_certified_on__isnull=True)
        return queryset


def _certified_q(today) -> Q:
    """The SQL form of ``Profile.ic_certified(today)``."""
    return Q(ic_certified_on__isnull=False) & (
        Q(ic_certification_expires__isnull=True) | Q(ic_certification_expires__gte=today)
    )


@admin.register(Profile)
class ProfileAdmin(SimpleHistoryAdmin):
    form = ProfileForm
    list_display = (
        "user",
        "chat_handle",
        "phone",
        "time_zone",
        "certified",
        "ic_certification_expires",
    )
    list_filter = (CertificationFilter,)
    list_select_related = ("user",)
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "chat_handle",
        "phone",
    )
    # A profile belongs to its user for life; it is created with the user.
    readonly_fields = ("user",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                is_certified=Case(
                    When(_certified_q(timezone.localdate()), then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            )
        )

    @admin.display(description="IC certified", boolean=True, ordering="is_certified")
    def certified(self, obj: Profile) -> bool:
        return obj.is_certified

    def has_add_permission(self, request):
        # Every user gets a profile when the user is created (ircore.receivers).
        return False


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileForm
    can_delete = False
    verbose_name_plural = "incident profile"
    fields = (
        "chat_handle",
        "phone",
        "time_zone",
        "ic_certified_on",
        "ic_certification_expires",
    )


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = (ProfileInline,)

    def get_inline_instances(self, request, obj=None):
        # On the add form the profile does not exist yet and the post_save receiver
        # creates it; an inline there would try to create a second one.
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self._picking_a_user(request, obj)

    def _picking_a_user(self, request, obj) -> bool:
        """Django's autocomplete endpoint asks the *user* admin for view permission. Answer
        yes for whoever may add or change the model whose form is picking the user (a manager
        choosing a team lead), without letting them browse or open user accounts."""
        match = request.resolver_match
        if obj is not None or match is None or match.url_name != "autocomplete":
            return False
        try:
            source = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        except (KeyError, LookupError, ValueError):
            return False
        opts = source._meta
        return any(
            request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in ("add", "change")
        )


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


register_notifications(admin.site)
