"""The incident admin: the primary UI for running a response.

Pages read through ``incidents.selectors`` and change things only through
``incidents.services``: the edit form's save calls ``incident_update``, the inlines call
``affected_service_set/remove`` and ``checklist_tick``, and every button and list action
(acknowledge, move status, change severity, assign a role, tick, note, security checkpoint)
calls its verb and reports the outcome with ``message_user``. A refused rule comes back as a
form error or an error message, never a 500, and a refused save writes nothing.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from ircore.errors import RuleError

from . import services
from .forms import (
    CHECKPOINT_LABELS,
    AcknowledgeForm,
    ActionForm,
    ChecklistItemInlineForm,
    ChecklistTickForm,
    CheckpointForm,
    DeclareForm,
    IncidentAdminForm,
    NoteForm,
    RoleForm,
    SeverityForm,
    StatusForm,
    add_rule_error,
    severity_badge,
)
from .markdown import render_markdown
from .models import (
    TIMESTAMP_ORDER,
    ChecklistItem,
    Incident,
    IncidentService,
    RoleAssignment,
    Runbook,
    ThresholdCrossing,
    TimelineEntry,
)
from .selectors import checklist_progress, incident_list, missing_roles, runbooks_for

# --- display helpers -----------------------------------------------------------------------


def humanise(delta: timedelta) -> str:
    """A duration as people say it in an incident: 12m, 2h 10m, 41h 12m, 5d 3h."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes}m"
    # Up to three days in hours: regulatory clocks (72h) are counted that way.
    if hours < 72:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def age_text(incident: Incident, now: datetime) -> str:
    if incident.resolved_at is not None:
        return f"resolved after {humanise(incident.resolved_at - incident.declared_at)}"
    return f"open for {humanise(now - incident.declared_at)}"


def regulatory_state(incident: Incident, now: datetime) -> dict[str, Any] | None:
    """The regulator's clock for types that have one: due in, overdue by, or met."""
    kind = incident.incident_type
    due = incident.regulatory_due_at
    if kind is None or kind.regulatory_notification_hours is None or due is None:
        return None
    notified = incident.regulator_notified_at
    if notified is not None:
        if notified <= due:
            text = f"Regulator notified {humanise(due - notified)} before the deadline"
            level = "met"
        else:
            text = f"Regulator notified {humanise(notified - due)} after the deadline"
            level = "late"
    elif now <= due:
        text, level = f"Regulator notification due in {humanise(due - now)}", "due"
    else:
        text, level = f"Regulator notification OVERDUE by {humanise(now - due)}", "overdue"
    return {
        "text": text,
        "level": level,
        "due_at": due,
        "hours": kind.regulatory_notification_hours,
    }


# --- change list filters -------------------------------------------------------------------


class OpenStateFilter(admin.SimpleListFilter):
    """Open, resolved or closed; unfiltered by default (the list puts open ones first)."""

    title = "open / resolved / closed"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved"), ("closed", "Closed")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.exclude(status__in=Incident.CLOSED_STATES)
        if value == "resolved":
            return queryset.filter(status=Incident.Status.RESOLVED)
        if value == "closed":
            return queryset.filter(status=Incident.Status.CLOSED)
        return queryset


# --- inlines -------------------------------------------------------------------------------


def _no_policy_editing_from_here(field) -> None:
    """Drop the add/change/delete shortcuts next to policy and catalog selects: an incident
    page is no place to delete a service or an incident type."""
    widget = getattr(field, "widget", None)
    if isinstance(widget, RelatedFieldWidgetWrapper):
        widget.can_add_related = widget.can_change_related = widget.can_delete_related = False


class AffectedServiceInline(admin.TabularInline):
    """Saved through ``affected_service_set/remove`` (see ``IncidentAdmin.save_formset``)."""

    model = IncidentService
    fields = ["service", "status"]
    extra = 0
    verbose_name_plural = "affected services"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        _no_policy_editing_from_here(field)
        return field

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Read the services once for every row's <select>; each row would query them again.
        field = formset.form.base_fields["service"]
        field.choices = list(field.choices)
        return formset


class RoleInline(admin.TabularInline):
    """Who held which role when, current holders first; roles change with "Assign role"."""

    model = RoleAssignment
    fields = ["role", "user", "current", "assigned_at", "relieved_at", "assigned_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "roles (current holders first)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user", "assigned_by")
            .order_by(F("relieved_at").desc(nulls_first=True), "role", "-assigned_at")
        )

    @admin.display(boolean=True)
    def current(self, obj: RoleAssignment) -> bool:
        return obj.is_current

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChecklistInline(admin.TabularInline):
    """Tick or untick with the checkbox; ``checklist_tick`` records who and when."""

    model = ChecklistItem
    form = ChecklistItemInlineForm
    fields = ["text", "done", "done_by", "done_at"]
    readonly_fields = ["text", "done_by", "done_at"]
    extra = 0
    can_delete = False
    verbose_name_plural = "checklist"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("done_by").order_by("position", "id")

    def has_add_permission(self, request, obj=None):
        return False  # items come from the severity's checklist

    def has_delete_permission(self, request, obj=None):
        return False


class TimelineInline(admin.TabularInline):
    """Everything that happened, newest first; add to it with the note form above."""

    model = TimelineEntry
    fields = ["occurred_at", "kind", "author", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "timeline (newest first)"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("author").order_by("-occurred_at", "-id")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the incident admin --------------------------------------------------------------------

Perform = Callable[[Incident, dict[str, Any]], str]


@admin.register(Incident)
class IncidentAdmin(SimpleHistoryAdmin):
    form = IncidentAdminForm
    list_display = ["reference", "title", "severity_col", "status", "ic", "age", "services_col"]
    list_display_links = ["reference", "title"]
    list_filter = [
        OpenStateFilter,
        "severity",
        "status",
        "incident_type",
        ("affected__service", admin.RelatedFieldListFilter),
        ("affected__service__team", admin.RelatedFieldListFilter),
        "is_drill",
        # A list filter rather than date_hierarchy, whose year links cost a scan of the table
        # on every page view.
        ("declared_at", admin.DateFieldListFilter),
    ]
    search_fields = ["reference", "title"]
    list_select_related = ["severity", "incident_type"]
    # No COUNT(*) over the whole table on every page view.
    show_full_result_count = False
    readonly_fields = [
        "reference",
        "severity_col",
        "status",
        "regulatory_due_at",
        "regulator_notified_at",
        "evidence_preserved_at",
        "credentials_rotated_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            "Details",
            {
                "fields": [
                    "title",
                    ("severity_col", "status"),
                    "summary",
                    "incident_type",
                    "is_drill",
                    "channel_name",
                ],
                "description": "Severity and status change only with the buttons above.",
            },
        ),
        (
            "Lifecycle times",
            {
                "classes": ["collapse"],
                "fields": list(TIMESTAMP_ORDER),
                "description": "Corrections must keep the order impact started ≤ detected ≤ "
                "declared ≤ acknowledged ≤ mitigated ≤ resolved ≤ closed.",
            },
        ),
        (
            "Impact",
            {
                "fields": [
                    "customers_affected",
                    "transactions_delayed",
                    "transactions_failed",
                    "financial_impact",
                ]
            },
        ),
        (
            "Security and privacy",
            {
                "classes": ["collapse"],
                "fields": [
                    "regulatory_due_at",
                    "regulator_notified_at",
                    "evidence_preserved_at",
                    "credentials_rotated_at",
                ],
            },
        ),
        (
            "Record",
            {
                "classes": ["collapse"],
                "fields": ["reference", "created_by", "created_at", "updated_at"],
            },
        ),
    ]
    inlines = [AffectedServiceInline, RoleInline, ChecklistInline, TimelineInline]
    actions = [
        "acknowledge_selected",
        "move_status_selected",
        "change_severity_selected",
        "assign_role_selected",
        "add_note_selected",
        "mark_checkpoint_selected",
    ]

    # --- list ----------------------------------------------------------------------------

    def get_queryset(self, request):
        return incident_list()

    def get_ordering(self, request):
        return ["-open_rank", "-declared_at", "-id"]

    def get_list_display(self, request):
        # Who runs an incident is for those who may read role assignments (not Support).
        if request.user.has_perm("incidents.view_roleassignment"):
            return self.list_display
        return [column for column in self.list_display if column != "ic"]

    @admin.display(description="severity", ordering="severity__rank")
    def severity_col(self, obj: Incident) -> str:
        return severity_badge(obj.severity)

    @admin.display(description="IC", ordering="ic_username")
    def ic(self, obj: Incident) -> str:
        # incident_list()'s annotation: no query per row.
        return obj.ic_username or "—"

    @admin.display(description="age", ordering="declared_at")
    def age(self, obj: Incident) -> str:
        return age_text(obj, timezone.now())

    @admin.display(description="services")
    def services_col(self, obj: Incident) -> str:
        # Reads the prefetched ``affected`` rows: no query per row.
        return ", ".join(row.service.name for row in obj.affected.all()) or "—"

    # --- the incident page -----------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view

        def incident_path(suffix: str, view, name: str):
            return path(f"<path:object_id>/{suffix}/", wrap(view), name=f"{prefix}_{name}")

        # Ahead of the stock URLs, whose "<path:object_id>/" would swallow these.
        return [
            path("declare/", wrap(self.declare_view), name=f"{prefix}_declare"),
            incident_path("acknowledge", self.acknowledge_view, "acknowledge"),
            incident_path("status", self.status_view, "status"),
            incident_path("severity", self.severity_view, "severity"),
            incident_path("role", self.role_view, "role"),
            incident_path("checklist", self.checklist_view, "checklist"),
            incident_path("note", self.note_view, "note"),
            incident_path("security", self.security_view, "security"),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args: Any) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}",
            args=args,
            current_app=self.admin_site.name,
        )

    def add_view(self, request, form_url="", extra_context=None):
        # Incidents begin with a declaration (reference, checklist, timeline, page), which
        # only the declare form does.
        return HttpResponseRedirect(self._url("declare"))

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # The history tab is for reading: a revert would save an old version past the
        # services (and their rules and timeline), so it is refused, not only hidden.
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def has_delete_permission(self, request, obj=None):
        # Deleting would take the timeline and roles with it: a mistaken declaration is
        # resolved and closed (or marked a drill), and stays on the record.
        return False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        _no_policy_editing_from_here(field)
        return field

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context.update(self._essentials(request, obj))
        # "Save and add another" would lead to the declare form; declaring is its own step.
        context["show_save_and_add_another"] = False
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _essentials(self, request: HttpRequest, incident: Incident) -> dict[str, Any]:
        """What a responder needs first: the state of the incident and what to do next."""
        now = timezone.now()
        done, total = checklist_progress(incident)
        current = list(
            RoleAssignment.objects.filter(incident=incident, relieved_at__isnull=True)
            .select_related("user")
            .order_by("role", "-assigned_at")
        )
        ic = next((a for a in current if a.role == RoleAssignment.Role.INCIDENT_COMMANDER), None)
        # The IC has its own line; other required roles nobody holds are called out.
        lacking = [
            {"role": role, "label": RoleAssignment.Role(role).label}
            for role in missing_roles(incident, current)
            if role != RoleAssignment.Role.INCIDENT_COMMANDER
        ]
        can_change = self.has_change_permission(request, incident)
        pk = incident.pk
        checkpoints = []
        if incident.security_tracked:
            for key, label in CHECKPOINT_LABELS.items():
                checkpoints.append(
                    {
                        "key": key,
                        "label": label,
                        "at": getattr(incident, services.SECURITY_CHECKPOINTS[key]),
                        "url": f"{self._url('security', pk)}?checkpoint={key}",
                    }
                )
        user = request.user
        # Show only what the viewer may read elsewhere (as the API detail does): Support sees
        # the incident, not who runs it, its checklist or the runbooks.
        sees_roles = user.has_perm("incidents.view_roleassignment")
        sees_checklist = user.has_perm("incidents.view_checklistitem")
        sees_runbooks = user.has_perm("incidents.view_runbook")
        return {
            "ir": {
                "sees_roles": sees_roles,
                "sees_checklist": sees_checklist,
                "severity_badge": severity_badge(incident.severity),
                "age": age_text(incident, now),
                "ic": ic if sees_roles else None,
                "missing_roles": lacking if sees_roles else [],
                "checklist_done": done,
                "checklist_total": total,
                "checklist_percent": round(100 * done / total) if total else 0,
                "regulatory": regulatory_state(incident, now),
                "checkpoints": checkpoints,
                "moves": [
                    {
                        "status": status,
                        "label": Incident.Status(status).label,
                        "url": f"{self._url('status', pk)}?status={status}",
                    }
                    for status in services.allowed_moves(incident)
                ],
                "runbooks": [(rb, render_markdown(rb.body)) for rb in runbooks_for(incident)]
                if sees_runbooks
                else [],
                "can_change": can_change,
                "can_assign": can_change and user.has_perm("incidents.add_roleassignment"),
                "can_tick": can_change and user.has_perm("incidents.change_checklistitem"),
                "can_note": can_change and user.has_perm("incidents.add_timelineentry"),
                "note_form": NoteForm(auto_id="note_%s"),
                "urls": {
                    name: self._url(name, pk)
                    for name in (
                        "acknowledge",
                        "status",
                        "severity",
                        "role",
                        "checklist",
                        "note",
                        "security",
                    )
                },
            }
        }

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleError as error:
            # The form's checks passed but a service refused while saving (someone changed
            # the incident in between). The whole save is one transaction, so nothing stuck.
            self.message_user(request, f"Nothing was saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if not change:  # add_view redirects to the declare form; this is never reached
            raise PermissionDenied
        data = form.service_data()
        if data:
            services.incident_update(incident=obj, user=request.user, data=data)

    def save_formset(self, request, form, formset, change):
        incident = form.instance
        # What construct_change_message() reads from a saved formset.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is IncidentService:
            self._save_affected(request.user, incident, formset)
        elif formset.model is ChecklistItem:
            self._save_checklist(request, formset)
        # Roles and the timeline are read-only rows: they change through their actions.

    def _save_affected(self, user, incident: Incident, formset) -> None:
        originals = {
            row.pk: row
            for row in IncidentService.objects.filter(incident=incident).select_related("service")
        }
        deleted = formset.deleted_forms
        to_set = []
        # Removals first, so a row whose service was swapped with another row's cannot
        # delete what the other row just set.
        for row_form in formset.forms:
            pk = row_form.instance.pk
            original = originals.get(pk)
            if row_form in deleted:
                if original is not None:
                    services.affected_service_remove(
                        incident=incident, service=original.service, user=user
                    )
                    formset.deleted_objects.append(original)
                continue
            if not row_form.has_changed():
                continue
            service = row_form.cleaned_data["service"]
            if original is not None and original.service_id != service.pk:
                services.affected_service_remove(
                    incident=incident, service=original.service, user=user
                )
            to_set.append((row_form, original, service))
        for row_form, original, service in to_set:
            row = services.affected_service_set(
                incident=incident,
                service=service,
                status=row_form.cleaned_data["status"],
                user=user,
            )
            if original is None:
                formset.new_objects.append(row)
            else:
                formset.changed_objects.append((row, row_form.changed_data))

    def _save_checklist(self, request, formset) -> None:
        for row_form in formset.forms:
            if "done" not in row_form.changed_data:  # unchanged from what this person saw
                continue
            item, wanted = row_form.instance, row_form.cleaned_data["done"]
            if item.done == wanted:
                # Someone else got there first (the row was read fresh for this save).
                who = item.done_by.get_username() if item.done_by else "someone"
                state = f"ticked by {who}" if wanted else "unticked"
                self.message_user(request, f"“{item.text}” was already {state}.", messages.INFO)
                continue
            item = services.checklist_tick(item=item, user=request.user, done=wanted)
            formset.changed_objects.append((item, ["done"]))

    # --- the incident page's buttons (custom views) -----------------------------------------

    def _incident_or_404(self, request: HttpRequest, object_id: str) -> Incident:
        incident = self.get_object(request, unquote(object_id))
        if incident is None:
            raise Http404(f"No incident with id {object_id!r}.")
        return incident

    def _action_view(
        self,
        request: HttpRequest,
        object_id: str,
        *,
        form_class: type[ActionForm],
        title: str,
        perform: Perform,
        perm: str | None = None,
        form_kwargs: dict[str, Any] | None = None,
        submit_label: str = "Save",
    ) -> HttpResponse:
        """GET shows the action's form; POST calls the service and goes back to the incident
        with a message, or shows the refusal as a form error."""
        incident = self._incident_or_404(request, object_id)
        if not self.has_change_permission(request, incident) or (
            perm and not request.user.has_perm(perm)
        ):
            raise PermissionDenied
        kwargs = {"incident": incident, **(form_kwargs or {})}
        if request.method == "POST":
            form = form_class(request.POST, **kwargs)
            if form.is_valid():
                try:
                    message = perform(incident, form.cleaned_data)
                except RuleError as error:
                    if not form.fields:  # nothing to correct on a form without fields
                        self.message_user(request, error.message, messages.ERROR)
                        return HttpResponseRedirect(self._url("change", incident.pk))
                    add_rule_error(form, error)
                else:
                    self.message_user(request, message, messages.SUCCESS)
                    return HttpResponseRedirect(self._url("change", incident.pk))
        else:
            initial = {k: v for k, v in request.GET.items() if k in form_class.base_fields}
            form = form_class(initial=initial, **kwargs)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": incident,
            "title": title,
            "form": form,
            "submit_label": submit_label,
            "severity_badge": severity_badge(incident.severity),
            "has_view_permission": self.has_view_permission(request, incident),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/incidents/incident/action_form.html", context)

    def acknowledge_view(self, request, object_id):
        def perform(incident, data):
            services.incident_acknowledge(incident=incident, user=request.user)
            return f"{incident.reference} acknowledged."

        return self._action_view(
            request,
            object_id,
            form_class=AcknowledgeForm,
            title="Acknowledge",
            perform=perform,
            submit_label="Acknowledge",
        )

    def status_view(self, request, object_id):
        def perform(incident, data):
            old = incident.get_status_display().lower()
            services.incident_set_status(
                incident=incident, status=data["status"], note=data["note"], user=request.user
            )
            new = incident.get_status_display().lower()
            return f"{incident.reference} moved from {old} to {new}."

        return self._action_view(
            request,
            object_id,
            form_class=StatusForm,
            title="Move status",
            perform=perform,
            submit_label="Move",
        )

    def severity_view(self, request, object_id):
        def perform(incident, data):
            old = incident.severity.key
            before = incident.checklist.count()
            services.incident_change_severity(
                incident=incident,
                severity=data["severity"],
                reason=data["reason"],
                user=request.user,
            )
            added = incident.checklist.count() - before
            extra = f"; {added} checklist item{'s' if added != 1 else ''} added" if added else ""
            return f"{incident.reference} severity {old} → {data['severity'].key}{extra}."

        return self._action_view(
            request,
            object_id,
            form_class=SeverityForm,
            title="Change severity",
            perform=perform,
            submit_label="Change severity",
        )

    def role_view(self, request, object_id):
        def perform(incident, data):
            assignment = services.role_assign(
                incident=incident,
                role=data["role"],
                user=data["user"],
                by=request.user,
                override_reason=data.get("override_reason", ""),
            )
            person = assignment.user.get_full_name() or assignment.user.get_username()
            return f"{person} is now {assignment.get_role_display()} on {incident.reference}."

        return self._action_view(
            request,
            object_id,
            form_class=RoleForm,
            title="Assign a role",
            perform=perform,
            perm="incidents.add_roleassignment",
            form_kwargs={
                "can_override": request.user.has_perm("incidents.override_ic_certification")
            },
            submit_label="Assign",
        )

    def checklist_view(self, request, object_id):
        def perform(incident, data):
            item = services.checklist_tick(item=data["item"], user=request.user, done=data["done"])
            state = "done" if data["done"] else "not done"
            return f"“{item.text}” marked {state}."

        return self._action_view(
            request,
            object_id,
            form_class=ChecklistTickForm,
            title="Tick a checklist item",
            perform=perform,
            perm="incidents.change_checklistitem",
        )

    def note_view(self, request, object_id):
        def perform(incident, data):
            entry = services.note_add(
                incident=incident, kind=data["kind"], text=data["text"], user=request.user
            )
            return f"{entry.get_kind_display()} added to {incident.reference}'s timeline."

        return self._action_view(
            request,
            object_id,
            form_class=NoteForm,
            title="Add to the timeline",
            perform=perform,
            perm="incidents.add_timelineentry",
            submit_label="Add",
        )

    def security_view(self, request, object_id):
        def perform(incident, data):
            services.security_checkpoint_mark(
                incident=incident, checkpoint=data["checkpoint"], user=request.user
            )
            return f"{incident.reference}: {CHECKPOINT_LABELS[data['checkpoint']].lower()}."

        return self._action_view(
            request,
            object_id,
            form_class=CheckpointForm,
            title="Record a security checkpoint",
            perform=perform,
            submit_label="Record",
        )

    def declare_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = DeclareForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    incident = services.incident_declare(
                        title=data["title"],
                        severity=data["severity"],
                        services=data["services"],
                        summary=data["summary"],
                        incident_type=data["incident_type"],
                        is_drill=data["is_drill"],
                        user=request.user,
                    )
                except RuleError as error:
                    add_rule_error(form, error)
                else:
                    self.log_addition(request, incident, [{"added": {}}])
                    self.message_user(
                        request,
                        f"Declared {incident.reference} ({incident.severity.key}): "
                        f"{incident.title}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._url("change", incident.pk))
        else:
            form = DeclareForm(initial={"severity": request.GET.get("severity")})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": "Declare an incident",
            "form": form,
            "has_view_permission": self.has_view_permission(request),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/incidents/incident/declare.html", context)

    # --- change list actions: each loops over the service and reports counts ----------------

    def _report(
        self,
        request: HttpRequest,
        incidents: QuerySet[Incident],
        perform: Callable[[Incident], Any],
        done: str,
    ) -> None:
        """One message per action: '2 incidents moved to monitoring; 1 refused: …'."""
        succeeded, refused = 0, []
        for incident in incidents:
            try:
                perform(incident)
            except RuleError as error:
                message = error.message
                if incident.reference not in message:
                    message = f"{incident.reference}: {message}"
                refused.append(message)
            else:
                succeeded += 1
        text = f"{succeeded} incident{'s' if succeeded != 1 else ''} {done}"
        if refused:
            text += f"; {len(refused)} refused: " + " ".join(
                m if m.endswith(".") else m + "." for m in refused
            )
            self.message_user(request, text, messages.ERROR)
        else:
            self.message_user(request, text + ".", messages.SUCCESS)

    def _bulk_with_form(
        self,
        request: HttpRequest,
        queryset: QuerySet[Incident],
        *,
        action: str,
        form_class: type[ActionForm],
        title: str,
        run: Callable[[dict[str, Any]], tuple[Callable[[Incident], Any], str]],
        form_kwargs: dict[str, Any] | None = None,
    ) -> HttpResponse | None:
        """An action that asks something first: the first POST (from the list) shows the
        form for the selected incidents, the second (with "apply") runs it."""
        kwargs = {"prefix": "apply", **(form_kwargs or {})}
        applying = "apply" in request.POST
        form = form_class(request.POST if applying else None, **kwargs)
        if applying and form.is_valid():
            perform, done = run(form.cleaned_data)
            self._report(request, queryset, perform, done)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": title,
            "form": form,
            "incidents": queryset,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/incidents/incident/bulk_action.html", context)

    @admin.action(description="Acknowledge selected incidents", permissions=["change"])
    def acknowledge_selected(self, request, queryset):
        perform = partial(_acknowledge, user=request.user)
        self._report(request, queryset, perform, "acknowledged")

    @admin.action(description="Move selected incidents to a status…", permissions=["change"])
    def move_status_selected(self, request, queryset):
        def run(data):
            label = Incident.Status(data["status"]).label.lower()
            return (
                partial(_set_status, status=data["status"], note=data["note"], user=request.user),
                f"moved to {label}",
            )

        return self._bulk_with_form(
            request,
            queryset,
            action="move_status_selected",
            form_class=StatusForm,
            title="Move incidents to a status",
            run=run,
        )

    @admin.action(description="Change severity of selected incidents…", permissions=["change"])
    def change_severity_selected(self, request, queryset):
        def run(data):
            return (
                partial(
                    _change_severity,
                    severity=data["severity"],
                    reason=data["reason"],
                    user=request.user,
                ),
                f"changed to {data['severity'].key}",
            )

        return self._bulk_with_form(
            request,
            queryset,
            action="change_severity_selected",
            form_class=SeverityForm,
            title="Change the severity of incidents",
            run=run,
        )

    @admin.action(description="Assign a role on selected incidents…", permissions=["assign"])
    def assign_role_selected(self, request, queryset):
        def run(data):
            person = data["user"]
            label = RoleAssignment.Role(data["role"]).label
            return (
                partial(
                    _assign,
                    role=data["role"],
                    person=person,
                    by=request.user,
                    override_reason=data.get("override_reason", ""),
                ),
                f"now have {person.get_full_name() or person.get_username()} as {label}",
            )

        return self._bulk_with_form(
            request,
            queryset,
            action="assign_role_selected",
            form_class=RoleForm,
            title="Assign a role on incidents",
            run=run,
            form_kwargs={
                "can_override": request.user.has_perm("incidents.override_ic_certification")
            },
        )

    @admin.action(description="Add a note to selected incidents…", permissions=["note"])
    def add_note_selected(self, request, queryset):
        def run(data):
            label = TimelineEntry.Kind(data["kind"]).label.lower()
            return (
                partial(_note, kind=data["kind"], text=data["text"], user=request.user),
                f"got the {label} on their timeline",
            )

        return self._bulk_with_form(
            request,
            queryset,
            action="add_note_selected",
            form_class=NoteForm,
            title="Add to the timeline of incidents",
            run=run,
        )

    @admin.action(description="Record a security checkpoint on selected…", permissions=["change"])
    def mark_checkpoint_selected(self, request, queryset):
        def run(data):
            return (
                partial(_checkpoint, checkpoint=data["checkpoint"], user=request.user),
                f"recorded: {CHECKPOINT_LABELS[data['checkpoint']].lower()}",
            )

        return self._bulk_with_form(
            request,
            queryset,
            action="mark_checkpoint_selected",
            form_class=CheckpointForm,
            title="Record a security checkpoint on incidents",
            run=run,
        )

    def has_assign_permission(self, request):
        return self.has_change_permission(request) and request.user.has_perm(
            "incidents.add_roleassignment"
        )

    def has_note_permission(self, request):
        return self.has_change_permission(request) and request.user.has_perm(
            "incidents.add_timelineentry"
        )


# The list actions' single steps, so _report can refuse them one incident at a time.
def _acknowledge(incident, *, user):
    return services.incident_acknowledge(incident=incident, user=user)


def _set_status(incident, *, status, note, user):
    return services.incident_set_status(incident=incident, status=status, note=note, user=user)


def _change_severity(incident, *, severity, reason, user):
    return services.incident_change_severity(
        incident=incident, severity=severity, reason=reason, user=user
    )


def _assign(incident, *, role, person, by, override_reason):
    return services.role_assign(
        incident=incident, role=role, user=person, by=by, override_reason=override_reason
    )


def _note(incident, *, kind, text, user):
    return services.note_add(incident=incident, kind=kind, text=text, user=user)


def _checkpoint(incident, *, checkpoint, user):
    return services.security_checkpoint_mark(incident=incident, checkpoint=checkpoint, user=user)


# --- runbooks, threshold crossings, timeline -------------------------------------------------


@admin.register(Runbook)
class RunbookAdmin(SimpleHistoryAdmin):
    list_display = ["title", "slug", "services_col", "types_col", "updated_at"]
    list_filter = ["services", "incident_types"]
    search_fields = ["title", "slug", "body"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["services", "incident_types"]
    readonly_fields = ["preview", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "services", "incident_types", "body"]}),
        ("Preview (as saved)", {"fields": ["preview", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("services", "incident_types")

    @admin.display(description="services")
    def services_col(self, obj: Runbook) -> str:
        return ", ".join(s.name for s in obj.services.all()) or "—"

    @admin.display(description="incident types")
    def types_col(self, obj: Runbook) -> str:
        return ", ".join(t.name for t in obj.incident_types.all()) or "—"

    @admin.display(description="rendered")
    def preview(self, obj: Runbook) -> str:
        if obj.pk is None:
            return "Save to see the rendered runbook."
        return format_html('<div class="ir-markdown">{}</div>', render_markdown(obj.body))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services: the admin shows them and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ThresholdCrossing)
class ThresholdCrossingAdmin(ReadOnlyAdmin):
    list_display = ["incident", "threshold", "amount", "crossed_at"]
    list_select_related = ["incident", "threshold"]
    search_fields = ["incident__reference"]
    date_hierarchy = "crossed_at"
    show_full_result_count = False


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "incident_ref", "kind", "author", "short_text"]
    list_filter = ["kind"]
    search_fields = ["text", "incident__reference"]
    list_select_related = ["incident", "author"]
    ordering = ["-occurred_at", "-id"]
    show_full_result_count = False
    fields = ["incident", "kind", "occurred_at", "author", "text", "data"]

    @admin.display(description="incident", ordering="incident__reference")
    def incident_ref(self, obj: TimelineEntry) -> str:
        return obj.incident.reference

    @admin.display(description="text")
    def short_text(self, obj: TimelineEntry) -> str:
        return obj.text if len(obj.text) <= 120 else obj.text[:119] + "…"
