"""People: incident profiles, and Django's user admin with the profile inline and a user
picker for autocomplete fields that leaks no account."""

import functools
import zoneinfo

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import BooleanField, Case, Q, Value, When
from simple_history.admin import SimpleHistoryAdmin

from ircore.models import Profile


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


class CertificationFilter(admin.SimpleListFilter):
    title = "IC certification"
    parameter_name = "certification"

    def lookups(self, request, model_admin):
        return (("certified", "Certified"), ("expired", "Expired"), ("none", "Never certified"))

    def queryset(self, request, queryset):
        today = Profile.today()
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
    return Profile.certified_q(today)


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
                    When(_certified_q(Profile.today()), then=Value(True)),
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

# What the user picker searches for someone who may not open user accounts: the name a
# person is shown by, never the e-mail address (searching by it would confirm addresses).
PICKER_SEARCH_FIELDS = ("username", "first_name", "last_name")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, with the incident profile inline, and the picker behind every
    user autocomplete field (a team's lead and manager, ...).

    Django's autocomplete endpoint asks the *user* admin for view permission and its
    queryset, whatever the form. Here it answers only for a real picker: the request names
    a field that is in the autocomplete fields of the model admin (or inline) that shows
    it, the field points at users, and the requester may add or change that model. The
    picker then lists active accounts only, and superuser accounts only when a superuser
    asks (the accounts that hold every permission are not listed to everyone who edits a
    team); it searches usernames and names, and e-mail addresses only for those who may
    view user accounts anyway, so nobody can confirm an address they may not see. Results
    show the username, never the address."""

    inlines = (ProfileInline,)

    def get_inline_instances(self, request, obj=None):
        # On the add form the profile does not exist yet and the post_save receiver
        # creates it; an inline there would try to create a second one.
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or (
            obj is None and self._picking_a_user(request)
        )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not self._picking_a_user(request):
            return qs
        qs = qs.filter(is_active=True)
        return qs if request.user.is_superuser else qs.filter(is_superuser=False)

    def get_search_fields(self, request):
        if self._picking_a_user(request) and not super().has_view_permission(request):
            return PICKER_SEARCH_FIELDS
        return super().get_search_fields(request)

    def _picking_a_user(self, request) -> bool:
        """Whether ``request`` is the autocomplete endpoint filling a user autocomplete
        field that the requester may set (see the class docstring). Cached per request."""
        cached = getattr(request, "_ircore_picking_a_user", None)
        if cached is None:
            cached = self._is_user_picker(request)
            request._ircore_picking_a_user = cached
        return cached

    def _is_user_picker(self, request) -> bool:
        match = request.resolver_match
        if match is None or match.url_name != "autocomplete":
            return False
        try:
            source = apps.get_model(request.GET["app_label"], request.GET["model_name"])
            field = source._meta.get_field(request.GET["field_name"])
        except (KeyError, LookupError, ValueError, FieldDoesNotExist):
            return False
        if not field.is_relation or field.related_model is not User:
            return False
        if field.name not in self._autocomplete_fields_for(request, source):
            return False
        opts = source._meta
        return any(
            request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in ("add", "change")
        )

    def _autocomplete_fields_for(self, request, source) -> set[str]:
        """The autocomplete fields of every admin (and inline) of this site that edits
        ``source``."""
        names: set[str] = set()
        for model_admin in self.admin_site._registry.values():
            if model_admin.model is source:
                names.update(model_admin.get_autocomplete_fields(request))
            for inline_class in model_admin.inlines:
                if issubclass(inline_class, InlineModelAdmin) and inline_class.model is source:
                    inline = inline_class(model_admin.model, self.admin_site)
                    names.update(inline.get_autocomplete_fields(request))
        return names
