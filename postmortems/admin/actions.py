"""Action items: one list across every postmortem (filters: owner, team, overdue, priority,
status), a fixed number of queries whatever its length; the item's page moves it along
through ``postmortems.services.actions`` (done needs its evidence, won't do a reason). And the
policy rows that give each priority its default due date."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from ircore.errors import RuleError
from ircore.models import Team
from ircore.pagination import CappedCountPaginator

from .. import permissions as perms
from ..models import ActionItem, ActionItemDeadline
from ..services import actions as services
from .refusals import ServiceErrorsInForm, saved_as

# The owner and team filters list this many choices (any other still filters by its id).
CHOICES = 50


def today() -> Any:
    return services.today_utc(timezone.now())


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        overdue = ActionItem.objects.overdue(today())
        if self.value() == "yes":
            return queryset.overdue(today())
        if self.value() == "no":
            return queryset.exclude(pk__in=overdue.values("pk"))
        return queryset


class OwnerFilter(admin.SimpleListFilter):
    title = "owner"
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        ids = ActionItem.objects.unfinished().exclude(owner=None).values("owner_id").distinct()
        people = get_user_model().objects.filter(pk__in=ids).order_by("username")[:CHOICES]
        return [("mine", "Mine"), ("none", "Nobody")] + [
            (str(p.pk), p.get_full_name() or p.get_username()) for p in people
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "mine":
            return queryset.filter(owner=request.user)
        if value == "none":
            return queryset.filter(owner=None)
        if value and value.isdigit():
            return queryset.filter(owner_id=int(value))
        return queryset


class TeamFilter(admin.SimpleListFilter):
    title = "team"
    parameter_name = "team"

    def lookups(self, request, model_admin):
        return [(str(t.pk), t.name) for t in Team.objects.order_by("name")[:CHOICES]]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(team_id=int(value))
        return queryset


class ActionItemForm(forms.ModelForm):
    ticket_url = forms.URLField(
        label="External ticket",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=ActionItem._meta.get_field("ticket_url").help_text,
    )
    reason = forms.CharField(
        label="Why not",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 70}),
        help_text="Needed to mark it won't do.",
    )

    class Meta:
        model = ActionItem
        fields = [
            "postmortem",
            "title",
            "kind",
            "description",
            "owner",
            "team",
            "priority",
            "due_on",
            "ticket_url",
            "status",
            "evidence",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3, "cols": 80}),
            "evidence": forms.Textarea(
                attrs={
                    "rows": 3,
                    "cols": 80,
                    "placeholder": "e.g. https://git.example/merge/123 deployed 2026-01-30; "
                    "dashboard 'Query plans' shows the alert firing in staging.",
                }
            ),
        }


@admin.register(ActionItem)
class ActionItemAdmin(ServiceErrorsInForm, SimpleHistoryAdmin):
    form = ActionItemForm
    list_display = [
        "title",
        "source",
        "kind",
        "owner",
        "team",
        "priority",
        "due_on",
        "status",
        "overdue",
    ]
    list_filter = [OwnerFilter, TeamFilter, OverdueFilter, "priority", "status", "kind"]
    list_select_related = ["postmortem__incident", "owner", "team"]
    search_fields = ["title", "postmortem__incident__reference"]
    autocomplete_fields = ["postmortem", "owner", "team"]
    readonly_fields = ["completed_at", "completed_by", "wont_do_reason", "created_by", "created_at"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = ["mark_in_progress", "mark_done"]

    @admin.display(description="from", ordering="postmortem__incident__reference")
    def source(self, obj: ActionItem) -> str:
        if obj.postmortem_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            obj.postmortem.get_absolute_url(),
            obj.postmortem.incident.reference,
        )

    @admin.display(description="overdue", boolean=True)
    def overdue(self, obj: ActionItem) -> bool:
        return obj.is_overdue(today())

    def get_fieldsets(self, request, obj=None):
        what = ["postmortem", "title", "kind", "description"]
        who = ["owner", "team", "priority", "due_on", "ticket_url"]
        sets = [(None, {"fields": what}), ("Who and when", {"fields": who})]
        if obj is not None:
            done = [
                "status",
                "evidence",
                "reason",
                "wont_do_reason",
                "completed_at",
                "completed_by",
            ]
            sets.append(("Progress", {"fields": done}))
            sets.append(
                ("Record", {"classes": ["collapse"], "fields": ["created_by", "created_at"]})
            )
        return sets

    def get_readonly_fields(self, request, obj=None):
        fixed = list(self.readonly_fields)
        if obj is None:
            return fixed
        fixed.append("postmortem")
        if not self.has_change_permission(request, obj):
            return fixed
        if obj.postmortem_id and obj.postmortem.is_published:
            fixed += list(services.WORDING)
        return fixed

    def has_add_permission(self, request):
        return perms.may(request.user, perms.ADD_ACTION_ITEM)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return perms.may(request.user, perms.EDIT_ACTION_ITEM)
        return perms.may_change_item(request.user, obj)

    def has_view_permission(self, request, obj=None):
        return perms.may(request.user, perms.VIEW_ACTION_ITEMS)

    def has_delete_permission(self, request, obj=None):
        return False  # an item that will not be done is "won't do", with its reason

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data.get(f) for f in form.changed_data}
        data.pop("reason", None)
        status = data.pop("status", None)
        if not change:
            data.pop("postmortem", None)
            created = services.action_item_create(
                user=request.user, postmortem=form.cleaned_data.get("postmortem"), data=data
            )
            saved_as(obj, created)
            return
        evidence = data.pop("evidence", None) if status else None
        if data:
            services.action_item_update(item=obj, user=request.user, data=data)
        if status:
            services.action_item_set_status(
                item=obj,
                user=request.user,
                status=status,
                evidence=evidence,
                reason=form.cleaned_data.get("reason") or "",
            )

    def _move(self, request, queryset, status: str) -> None:
        moved = 0
        for item in queryset.select_related("postmortem__incident"):
            try:
                services.action_item_set_status(item=item, user=request.user, status=status)
            except RuleError as error:
                self.message_user(request, f"“{item.title}”: {error.message}", messages.ERROR)
                continue
            moved += 1
        self.message_user(
            request,
            ngettext("Moved %d item.", "Moved %d items.", moved) % moved,
            messages.SUCCESS if moved else messages.WARNING,
        )

    @admin.action(description="Mark in progress", permissions=["change"])
    def mark_in_progress(self, request, queryset):
        self._move(request, queryset, ActionItem.Status.IN_PROGRESS)

    @admin.action(
        description="Mark done (items with their evidence written)", permissions=["change"]
    )
    def mark_done(self, request, queryset):
        self._move(request, queryset, ActionItem.Status.DONE)


@admin.register(ActionItemDeadline)
class ActionItemDeadlineAdmin(SimpleHistoryAdmin):
    """Policy: travels in the policy file's ``action_items`` section."""

    list_display = ["priority", "days"]
