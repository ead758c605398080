"""Overrides, shift swap offers, calendar feed links and hand-off notices. Each change goes
through a service; the rows themselves are records, not edited in place."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from simple_history.admin import SimpleHistoryAdmin

from ircore.errors import RuleError

from .. import services
from ..models import FeedToken, HandoffNotice, Override, ShiftSwapRequest
from ..permissions import ASSIGN_SHIFT, MANAGE_FEEDS, TAKE_SHIFT, may
from .forms import FeedTokenForm, OverrideForm, SwapAssignForm, SwapOfferForm


def active_people():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class ServiceAddAdmin(SimpleHistoryAdmin):
    """The add form calls a service; a refused rule shows on the form, nothing saved."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleError as error:
            self.message_user(request, f"Nothing was saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_change_permission(self, request, obj=None):
        return False  # records: read them, or make a new one

    def _created(self, obj, row):
        obj.pk = row.pk
        obj._state.adding = False


@admin.register(Override)
class OverrideAdmin(ServiceAddAdmin):
    form = OverrideForm
    list_display = ["layer", "user", "start", "end", "reason", "created_by", "created_at"]
    list_select_related = ["layer__schedule", "user", "created_by"]
    list_filter = ["layer__schedule"]
    # People in a plain list: autocompletion would need the user admin, which responders
    # (who make overrides) may not open.
    autocomplete_fields = ["layer"]
    date_hierarchy = "start"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = active_people()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        row = services.override_create(
            layer=data["layer"],
            user=data["user"],
            start=data["start"],
            end=data["end"],
            reason=data.get("reason", ""),
            by=request.user,
        )
        self._created(obj, row)

    def delete_model(self, request, obj):
        services.override_delete(override=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for override in queryset:
            services.override_delete(override=override, by=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except RuleError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:oncall_override_changelist"))


@admin.register(ShiftSwapRequest)
class ShiftSwapRequestAdmin(ServiceAddAdmin):
    form = SwapOfferForm
    list_display = ["layer", "offered_by", "start", "end", "status", "taken_by", "decide"]
    list_select_related = ["layer__schedule", "offered_by", "taken_by"]
    list_filter = ["status"]
    autocomplete_fields = ["layer"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        row = services.swap_offer(
            layer=data["layer"],
            user=request.user,
            start=data["start"],
            end=data["end"],
            note=data.get("note", ""),
        )
        self._created(obj, row)

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: the offer stays on the record

    @admin.display(description="")
    def decide(self, obj: ShiftSwapRequest) -> str:
        if obj.status != ShiftSwapRequest.Status.OPEN:
            return "—"
        url = reverse("admin:oncall_shiftswaprequest_decide", args=[obj.pk])
        return format_html('<a href="{}">Take, assign or cancel</a>', url)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/decide/",
                wrap(self.decide_view),
                name="oncall_shiftswaprequest_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, object_id):
        offer = self.get_object(request, object_id)
        if offer is None or not self.has_view_permission(request, offer):
            raise PermissionDenied
        mine = offer.offered_by_id == request.user.pk
        can = {
            "take": may(request.user, TAKE_SHIFT) and not mine,
            "assign": may(request.user, ASSIGN_SHIFT),
            "cancel": mine or may(request.user, ASSIGN_SHIFT),
        }
        assign_form = SwapAssignForm(request.POST or None)
        if request.method == "POST":
            verb = request.POST.get("verb")
            if not can.get(verb):
                raise PermissionDenied
            try:
                if verb == "take":
                    services.swap_take(request=offer, user=request.user)
                elif verb == "cancel":
                    services.swap_cancel(request=offer, by=request.user)
                elif assign_form.is_valid():
                    services.swap_assign(
                        request=offer, to=assign_form.cleaned_data["to"], by=request.user
                    )
                else:
                    verb = None
            except RuleError as error:
                self.message_user(request, error.message, messages.ERROR)
                verb = None
            if verb:
                self.message_user(request, f"Offer {verb}{'n' if verb == 'take' else 'ed'}.")
                return HttpResponseRedirect(reverse("admin:oncall_shiftswaprequest_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Shift offered by {offer.offered_by}",
            "offer": offer,
            "can": can,
            "assign_form": assign_form,
            "has_view_permission": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/oncall/swap_decide.html", context)


@admin.register(FeedToken)
class FeedTokenAdmin(SimpleHistoryAdmin):
    """Feed links: made here (the link is shown once), revoked with the action."""

    form = FeedTokenForm
    list_display = ["subject_name", "label", "hint_shown", "created_by", "created_at", "revoked_at"]
    list_select_related = ["schedule", "user", "created_by"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    actions = ["revoke"]
    autocomplete_fields = ["schedule"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = active_people()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if may(request.user, MANAGE_FEEDS):
            return queryset
        return queryset.filter(user=request.user)

    @admin.display(description="feed of")
    def subject_name(self, obj: FeedToken) -> str:
        return obj.subject

    @admin.display(description="link ends")
    def hint_shown(self, obj: FeedToken) -> str:
        return f"…{obj.hint}"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row is the record of who could read what

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_add_permission(request):
            actions.pop("revoke", None)
        return actions

    @admin.action(description="Revoke the selected feed links")
    def revoke(self, request, queryset):
        done = 0
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                services.feed_token_revoke(token=token, by=request.user)
                done += 1
            except RuleError as error:
                self.message_user(request, f"{token}: {error.message}", messages.ERROR)
        self.message_user(request, f"Revoked {done} feed link{'s' if done != 1 else ''}.")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not may(request.user, MANAGE_FEEDS):
            # Only one's own: no schedule, no one else.
            form.base_fields["schedule"].disabled = True
            user_field = form.base_fields["user"]
            user_field.queryset = user_field.queryset.filter(pk=request.user.pk)
            user_field.initial = request.user.pk
        return form

    @method_decorator(never_cache)
    def add_view(self, request, form_url="", extra_context=None):
        """Make the link and show it once, in this response only (never in a message or a
        redirect, which would keep it in a cookie or the session)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = self.get_form(request)(request.POST)
            if form.is_valid():
                try:
                    row, token = services.feed_token_create(
                        by=request.user,
                        schedule=form.cleaned_data.get("schedule"),
                        person=form.cleaned_data.get("user"),
                        label=form.cleaned_data.get("label", ""),
                    )
                except RuleError as error:
                    self.message_user(request, error.message, messages.ERROR)
                    return HttpResponseRedirect(request.get_full_path())
                self.log_addition(request, row, [{"added": {}}])
                context = {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "title": "Feed link made",
                    "row": row,
                    "url": request.build_absolute_uri(_feed_path(token)),
                    "has_view_permission": True,
                }
                request.current_app = self.admin_site.name
                response = TemplateResponse(request, "admin/oncall/feed_created.html", context)
                response["Cache-Control"] = "no-store"
                return response
        # A GET, or a POST with form errors: the stock page shows the form and its errors.
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        raise PermissionDenied  # feed links are made by add_view through the service only


def _feed_path(token: str) -> str:
    try:
        return reverse("oncall-feed", args=[token])
    except NoReverseMatch:  # config.urls has not included oncall.urls.feed_patterns yet
        return f"/oncall/feeds/{token}.ics"


@admin.register(HandoffNotice)
class HandoffNoticeAdmin(admin.ModelAdmin):
    list_display = ["layer", "shift_start", "user", "role", "open_incidents", "notified_at"]
    list_select_related = ["layer__schedule", "user"]
    list_filter = ["role"]
    date_hierarchy = "shift_start"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
