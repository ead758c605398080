"""The incident page's buttons: one custom view per verb, each calling its service."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from ircore.errors import RuleError

from .. import permissions as verbs
from .. import services
from ..forms import (
    CHECKPOINT_LABELS,
    AcknowledgeForm,
    ActionForm,
    ChecklistTickForm,
    CheckpointForm,
    DeclareForm,
    NoteForm,
    RoleForm,
    SeverityForm,
    StatusForm,
    add_rule_error,
    role_time,
    severity_badge,
)
from ..models import (
    Incident,
)
from .access import allowed, refusal, refuses

Perform = Callable[[Incident, dict[str, Any]], str]


class IncidentButtonViews:
    """Mixed into ``IncidentAdmin``: the page's action views and the declare form."""

    # --- the incident page's buttons (custom views) -----------------------------------------

    def _action_view(
        self,
        request: HttpRequest,
        object_id: str,
        *,
        name: str,
        form_class: type[ActionForm],
        title: str,
        perform: Perform,
        form_kwargs: dict[str, Any] | None = None,
        submit_label: str = "Save",
    ) -> HttpResponse:
        """GET shows the action's form; POST calls the service and goes back to the incident
        with a message, or shows the refusal as a form error.

        ``name`` is the verb (``incidents.permissions``): without it, 403 before the incident
        is even looked up; an id that names no incident goes to the list with a message, as
        the change view does; a closed incident that no longer takes the verb goes back to
        its page with the reason.
        """
        if not allowed(request.user, name):
            raise PermissionDenied
        incident = self.get_object(request, unquote(object_id))
        if incident is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if refuses(incident, name):
            self.message_user(request, refusal(incident), messages.ERROR)
            return HttpResponseRedirect(self._url("change", incident.pk))
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
            name=verbs.ACKNOWLEDGE,
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
            name=verbs.MOVE,
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
            name=verbs.CHANGE_SEVERITY,
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
                **role_time(data),
            )
            person = assignment.user.get_full_name() or assignment.user.get_username()
            return f"{person} is now {assignment.get_role_display()} on {incident.reference}."

        return self._action_view(
            request,
            object_id,
            name=verbs.ASSIGN_ROLE,
            form_class=RoleForm,
            title="Assign a role",
            perform=perform,
            form_kwargs={"can_override": allowed(request.user, verbs.OVERRIDE_IC_CERTIFICATION)},
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
            name=verbs.TICK,
            form_class=ChecklistTickForm,
            title="Tick a checklist item",
            perform=perform,
        )

    def note_view(self, request, object_id):
        def perform(incident, data):
            entry = services.note_add(
                incident=incident,
                kind=data["kind"],
                text=data["text"],
                user=request.user,
                occurred_at=data.get("occurred_at"),
            )
            return f"{entry.get_kind_display()} added to {incident.reference}'s timeline."

        return self._action_view(
            request,
            object_id,
            name=verbs.NOTE,
            form_class=NoteForm,
            title="Add to the timeline",
            perform=perform,
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
            name=verbs.MARK_CHECKPOINT,
            form_class=CheckpointForm,
            title="Record a security checkpoint",
            perform=perform,
            submit_label="Record",
        )

    def declare_view(self, request):
        if not allowed(request.user, verbs.DECLARE):
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
