"""The postmortem admin: the list (overdue, mine), the page that writes it (sections with
blameless prompts, its timeline rows and action items inline), its buttons (send for review,
send back, publish, re-open, hand over, move the deadline, copy new timeline entries) and its
exports (Markdown, print-friendly HTML).

Everything saves through ``postmortems.services``; a refusal is shown on the field it names,
with what was typed kept. A published postmortem opens read-only, its sections rendered.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from incidents.admin.display import humanise, time_columns
from incidents.templatetags.ir_time import when
from ircore.markdown import render_markdown
from ircore.pagination import CappedCountPaginator

from .. import permissions as perms
from ..models import ActionItem, Postmortem, PostmortemTimelineEntry
from ..services import actions as action_services
from ..services import postmortems as services
from .postmortem_buttons import PostmortemButtonViews, shown_buttons
from .refusals import ServiceErrorsInForm, saved_as

# The blameless prompts: what each box asks for, as a placeholder in the box itself.
PROMPTS = {
    "summary": "e.g. From 10:15 to 11:10 UTC about 15% of card payments timed out after an "
    "index change altered a query plan; rolling the index back restored service.",
    "user_impact": "e.g. ~500 merchants saw slow or failed card payments for 55 minutes.",
    "business_impact": "e.g. ~$50K of payments failed; 3 merchant complaints; no SLA breach.",
    "immediate_cause": "e.g. A migration added an index; the optimiser chose a slower plan.",
    "contributing_factors": "e.g. Index statistics were not refreshed; no query-plan "
    "monitoring; the change was not tested on production-sized data. (Conditions, not culprits.)",
    "five_whys": "1. Why did payments fail? Queries timed out.\n2. Why? The plan changed.\n"
    "3. Why? ...\n4. Why? ...\n5. Why? ...",
    "root_cause": "e.g. Schema changes reach production without a check of their query plans.",
    "detection": "e.g. The 'Error rate > 5%' alert fired 1 minute after impact began.",
    "went_well": "e.g. Fast alert; clear declaration; DBA and backend worked as one.",
    "went_poorly": "e.g. Diagnosis took 20 minutes: no query-plan dashboard. Too many people "
    "in the channel. (What the system made hard, not who slipped.)",
    "lessons_learned": "e.g. Treat index changes as risky deploys: canary and watch plans.",
    "other_attendees": "One name per line (people without a login here).",
}
MARKDOWN_FIELDS = [f for f in services.SECTIONS if f != "other_attendees"]

SECTION_FIELDSETS = [
    ("Summary", ["summary"]),
    (
        "Impact",
        [
            ("customers_affected", "transactions_delayed", "transactions_failed"),
            "financial_impact",
            "user_impact",
            "business_impact",
        ],
    ),
    ("Root cause", ["immediate_cause", "contributing_factors", "five_whys", "root_cause"]),
    ("Detection", ["time_to_detect_shown", "detection"]),
    ("What went well and what went poorly", ["went_well", "went_poorly"]),
    ("Lessons learned", ["lessons_learned"]),
    ("Review meeting", ["review_meeting_at", "attendees", "other_attendees"]),
]
HEADER_FIELDS = [
    "incident_link",
    ("status", "owner"),
    ("opened_at_shown", "due_shown"),
    ("submitted_at_shown", "published_at_shown"),
    "reopen_reason",
]
HEADER_READONLY = [
    "incident_link",
    "status",
    "owner",
    "opened_at_shown",
    "due_shown",
    "submitted_at_shown",
    "published_at_shown",
    "reopen_reason",
]
PostmortemTimes = time_columns(
    Postmortem, ["opened_at", "submitted_at", "published_at", "review_meeting_at"]
)


def _rendered(field: str):
    label = Postmortem._meta.get_field(field).verbose_name

    @admin.display(description=label)
    def show(self: Any, obj: Postmortem) -> str:
        text = getattr(obj, field)
        return render_markdown(text) if text.strip() else "—"

    return show


class OverdueFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("due", "Not yet due"), ("published", "Published")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.overdue(now)
        if self.value() == "due":
            return queryset.unpublished().exclude(due_at__lt=now)
        if self.value() == "published":
            return queryset.filter(status=Postmortem.Status.PUBLISHED)
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = "owner"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("yes", "Mine")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(owner=request.user)
        return queryset


class TimelineRowInline(admin.TabularInline):
    model = PostmortemTimelineEntry
    fields = ["occurred_at", "starred", "text", "kind"]
    readonly_fields = ["kind"]
    extra = 0
    ordering = ["occurred_at", "id"]
    verbose_name = "timeline entry"
    verbose_name_plural = "Timeline (copied from the incident; star the moments that matter)"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "text":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 70})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _writable(self, request, obj) -> bool:
        return obj is not None and not obj.is_published and perms.may_write(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return self._writable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._writable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._writable(request, obj)

    def has_view_permission(self, request, obj=None):
        return perms.may(request.user, perms.VIEW_POSTMORTEM)


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    fields = ["title", "kind", "owner", "team", "priority", "due_on", "status", "item_link"]
    readonly_fields = ["status", "item_link"]
    autocomplete_fields = ["owner", "team"]
    extra = 0
    can_delete = False
    verbose_name_plural = "Action items (due date blank: the priority's default)"

    @admin.display(description="")
    def item_link(self, obj: ActionItem) -> str:
        if not obj.pk:
            return ""
        return format_html('<a href="{}">Open</a>', obj.get_absolute_url())

    def _writable(self, request, obj) -> bool:
        return obj is not None and not obj.is_published and perms.may_write(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return self._writable(request, obj) and perms.may(request.user, perms.ADD_ACTION_ITEM)

    def has_change_permission(self, request, obj=None):
        return self._writable(request, obj) and perms.may(request.user, perms.EDIT_ACTION_ITEM)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return perms.may(request.user, perms.VIEW_ACTION_ITEMS)


class OpenForm(forms.ModelForm):
    """Opening by hand: the incident, and who owns it (blank: its incident commander)."""

    class Meta:
        model = Postmortem
        fields = ["incident", "owner"]


@admin.register(Postmortem)
class PostmortemAdmin(
    ServiceErrorsInForm, PostmortemButtonViews, PostmortemTimes, SimpleHistoryAdmin
):
    change_form_template = "postmortems/postmortem/change_form.html"
    list_display = [
        "incident",
        "severity",
        "status",
        "owner",
        "opened_at_shown",
        "due_shown",
        "published_at_shown",
    ]
    list_filter = ["status", OverdueFilter, MineFilter, "incident__severity", "incident__is_drill"]
    list_select_related = ["incident__severity", "owner"]
    search_fields = ["incident__reference", "incident__title"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    autocomplete_fields = ["incident", "owner", "attendees"]
    inlines = [TimelineRowInline, ActionItemInline]

    # --- list ------------------------------------------------------------------------------

    @admin.display(description="severity", ordering="incident__severity__rank")
    def severity(self, obj: Postmortem) -> str:
        return obj.incident.severity.key

    @admin.display(description="due", ordering="due_at")
    def due_shown(self, obj: Postmortem) -> str:
        if obj.due_at is None:
            return "no deadline"
        shown = when(obj.due_at)
        if obj.is_published:
            return f"{shown} ({'on time' if obj.on_time else 'late'})"
        now = timezone.now()
        if obj.due_at < now:
            return format_html(
                '{} <strong class="errornote">overdue by {}</strong>',
                shown,
                humanise(now - obj.due_at),
            )
        return f"{shown} (in {humanise(obj.due_at - now)})"

    # --- the page --------------------------------------------------------------------------

    @admin.display(description="incident")
    def incident_link(self, obj: Postmortem) -> str:
        incident = obj.incident
        return format_html(
            '<a href="{}">{}</a> · {} · {}',
            incident.get_absolute_url(),
            incident,
            incident.severity.key,
            incident.get_status_display(),
        )

    @admin.display(description="time to detect")
    def time_to_detect_shown(self, obj: Postmortem) -> str:
        ttd = obj.time_to_detect
        if ttd is None:
            return "— (the incident lacks its impact-started or detected time)"
        return (
            f"{humanise(ttd)} (detected {when(obj.incident.detected_at)}, impact began "
            f"{when(obj.incident.impact_started_at)})"
        )

    def writable(self, request, obj) -> bool:
        return obj is not None and not obj.is_published and perms.may_write(request.user, obj)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    None,
                    {
                        "fields": ["incident", "owner"],
                        "description": (
                            "Postmortems of severities that require one open by themselves "
                            "on resolution; open any other here. Owner blank: the incident "
                            "commander."
                        ),
                    },
                )
            ]
        editable = self.writable(request, obj)

        def shown(field):
            if isinstance(field, tuple):
                return tuple(shown(f) for f in field)
            return field if editable or field not in MARKDOWN_FIELDS else f"{field}_html"

        sets = [("Postmortem", {"fields": HEADER_FIELDS})]
        for title, fields in SECTION_FIELDSETS:
            sets.append((title, {"fields": [shown(f) for f in fields]}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        header = [*HEADER_READONLY, "time_to_detect_shown"]
        if self.writable(request, obj):
            return header
        rendered = [f"{f}_html" for f in MARKDOWN_FIELDS]
        rest = [*services.IMPACT_COUNTS, "financial_impact", "review_meeting_at", "attendees"]
        rest.append("other_attendees")
        return header + rendered + rest

    def get_inlines(self, request, obj):
        # Opening asks for the incident and owner only; the rows come from the incident.
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = OpenForm
        return super().get_form(request, obj, change, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in PROMPTS:
            rows = 6 if db_field.name in ("five_whys", "summary") else 4
            kwargs["widget"] = forms.Textarea(
                attrs={"rows": rows, "cols": 90, "placeholder": PROMPTS[db_field.name]}
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return perms.may(request.user, perms.OPEN_POSTMORTEM)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return perms.may(request.user, perms.EDIT_POSTMORTEM)
        return self.writable(request, obj)

    def has_view_permission(self, request, obj=None):
        return perms.may(request.user, perms.VIEW_POSTMORTEM)

    def has_delete_permission(self, request, obj=None):
        return False  # a record: its history and its incident's timeline refer to it

    def revert_disabled(self, request, obj=None):
        return True  # a revert would save an old version past the services

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    # --- saving through the services --------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.postmortem_open(
                incident=form.cleaned_data["incident"],
                owner=form.cleaned_data.get("owner"),
                user=request.user,
            )
            saved_as(obj, created)
            return
        data = {f: form.cleaned_data[f] for f in form.changed_data if f in services.EDITABLE}
        if data:
            services.postmortem_update(postmortem=obj, user=request.user, data=data)

    def save_related(self, request, form, formsets, change):
        # The attendees are saved by postmortem_update; the inlines through their services.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        pm = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if not change:
            return
        user = request.user
        for row_form in formset.forms:
            instance = row_form.instance
            if row_form in formset.deleted_forms:
                if instance.pk and formset.model is PostmortemTimelineEntry:
                    services.timeline_entry_remove(entry=instance, user=user)
                    formset.deleted_objects.append(instance)
                continue
            if not row_form.has_changed():
                continue
            data = {f: row_form.cleaned_data[f] for f in row_form.changed_data}
            if formset.model is PostmortemTimelineEntry:
                if instance.pk:
                    row = services.timeline_entry_update(entry=instance, user=user, data=data)
                    formset.changed_objects.append((row, row_form.changed_data))
                else:
                    data = {
                        f: row_form.cleaned_data.get(f) for f in ("occurred_at", "text", "starred")
                    }
                    row = services.timeline_entry_add(postmortem=pm, user=user, data=data)
                    formset.new_objects.append(row)
            elif instance.pk:
                row = action_services.action_item_update(item=instance, user=user, data=data)
                formset.changed_objects.append((row, row_form.changed_data))
            else:
                fields = ("title", "kind", "owner", "team", "priority", "due_on")
                data = {f: row_form.cleaned_data.get(f) for f in fields}
                row = action_services.action_item_create(user=user, postmortem=pm, data=data)
                formset.new_objects.append(row)

    # --- buttons and exports ---------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/export.md", wrap(self.markdown_view), name=f"{prefix}_markdown"),
            path("<path:object_id>/print/", wrap(self.print_view), name=f"{prefix}_print"),
            path(
                "<path:object_id>/do/<slug:name>/", wrap(self.button_view), name=f"{prefix}_button"
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["pm_buttons"] = shown_buttons(request.user, obj)
            context["pm_overdue"] = obj.overdue(timezone.now())
        context["show_save_and_add_another"] = False
        return super().render_change_form(request, context, add, change, form_url, obj)


# The read-only page shows each section rendered: ``summary_html`` and so on.
for _field in MARKDOWN_FIELDS:
    setattr(PostmortemAdmin, f"{_field}_html", _rendered(_field))
