"""Change list actions: each loops over the service and reports counts."""

from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ircore.errors import RuleError

from .. import permissions as verbs
from .. import services
from ..forms import (
    CHECKPOINT_LABELS,
    ActionForm,
    CheckpointForm,
    NoteForm,
    RoleForm,
    SeverityForm,
    StatusForm,
    role_time,
)
from ..models import (
    Incident,
    RoleAssignment,
    TimelineEntry,
)
from .access import allowed, refusal, refuses


class IncidentBulkActions:
    """Mixed into ``IncidentAdmin``: the change list's actions."""

    # --- change list actions: each loops over the service and reports counts ----------------
    # Each action's ``permissions`` names its verb: Django asks ``has_<verb>_permission``,
    # which asks the verb table, as the incident page's buttons and the API do.

    def _report(
        self,
        request: HttpRequest,
        incidents: QuerySet[Incident],
        perform: Callable[[Incident], Any],
        done: str,
        *,
        name: str,
    ) -> None:
        """One message per action: '2 incidents moved to monitoring; 1 refused: …'."""
        succeeded, refused = 0, []
        for incident in incidents:
            try:
                if refuses(incident, name):
                    raise RuleError(refusal(incident))
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
        name: str,
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
            self._report(request, queryset, perform, done, name=name)
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

    @admin.action(description="Acknowledge selected incidents", permissions=["acknowledge"])
    def acknowledge_selected(self, request, queryset):
        perform = partial(_acknowledge, user=request.user)
        self._report(request, queryset, perform, "acknowledged", name=verbs.ACKNOWLEDGE)

    @admin.action(description="Move selected incidents to a status…", permissions=["move"])
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
            name=verbs.MOVE,
            form_class=StatusForm,
            title="Move incidents to a status",
            run=run,
        )

    @admin.action(
        description="Change severity of selected incidents…", permissions=["change_severity"]
    )
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
            name=verbs.CHANGE_SEVERITY,
            form_class=SeverityForm,
            title="Change the severity of incidents",
            run=run,
        )

    @admin.action(description="Assign a role on selected incidents…", permissions=["assign_role"])
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
                    **role_time(data),
                ),
                f"now have {person.get_full_name() or person.get_username()} as {label}",
            )

        return self._bulk_with_form(
            request,
            queryset,
            action="assign_role_selected",
            name=verbs.ASSIGN_ROLE,
            form_class=RoleForm,
            title="Assign a role on incidents",
            run=run,
            form_kwargs={"can_override": allowed(request.user, verbs.OVERRIDE_IC_CERTIFICATION)},
        )

    @admin.action(description="Add a note to selected incidents…", permissions=["note"])
    def add_note_selected(self, request, queryset):
        def run(data):
            label = TimelineEntry.Kind(data["kind"]).label.lower()
            return (
                partial(
                    _note,
                    kind=data["kind"],
                    text=data["text"],
                    occurred_at=data.get("occurred_at"),
                    user=request.user,
                ),
                f"got the {label} on their timeline",
            )

        return self._bulk_with_form(
            request,
            queryset,
            action="add_note_selected",
            name=verbs.NOTE,
            form_class=NoteForm,
            title="Add to the timeline of incidents",
            run=run,
        )

    @admin.action(
        description="Record a security checkpoint on selected…", permissions=["mark_checkpoint"]
    )
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
            name=verbs.MARK_CHECKPOINT,
            form_class=CheckpointForm,
            title="Record a security checkpoint on incidents",
            run=run,
        )

    def has_acknowledge_permission(self, request):
        return allowed(request.user, verbs.ACKNOWLEDGE)

    def has_move_permission(self, request):
        return allowed(request.user, verbs.MOVE)

    def has_change_severity_permission(self, request):
        return allowed(request.user, verbs.CHANGE_SEVERITY)

    def has_assign_role_permission(self, request):
        return allowed(request.user, verbs.ASSIGN_ROLE)

    def has_note_permission(self, request):
        return allowed(request.user, verbs.NOTE)

    def has_mark_checkpoint_permission(self, request):
        return allowed(request.user, verbs.MARK_CHECKPOINT)


# The list actions' single steps, so _report can refuse them one incident at a time.
def _acknowledge(incident, *, user):
    return services.incident_acknowledge(incident=incident, user=user)


def _set_status(incident, *, status, note, user):
    return services.incident_set_status(incident=incident, status=status, note=note, user=user)


def _change_severity(incident, *, severity, reason, user):
    return services.incident_change_severity(
        incident=incident, severity=severity, reason=reason, user=user
    )


def _assign(incident, *, role, person, by, override_reason, **when):
    return services.role_assign(
        incident=incident, role=role, user=person, by=by, override_reason=override_reason, **when
    )


def _note(incident, *, kind, text, occurred_at, user):
    return services.note_add(
        incident=incident, kind=kind, text=text, occurred_at=occurred_at, user=user
    )


def _checkpoint(incident, *, checkpoint, user):
    return services.security_checkpoint_mark(incident=incident, checkpoint=checkpoint, user=user)
