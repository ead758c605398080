"""The incident page's save: the edit form through ``incident_update``, the affected
services through ``affected_service_set/remove``, the checklist through ``checklist_tick``."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied

from ircore.errors import RuleError

from .. import permissions as verbs
from .. import services
from ..models import ChecklistItem, Incident, IncidentService
from .access import allowed


class IncidentSaving:
    """Mixed into ``IncidentAdmin``: ``save_model`` and ``save_formset`` call the services."""

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
        wanted = {
            row_form.cleaned_data["service"].pk
            for row_form in formset.forms
            if row_form not in deleted and row_form.cleaned_data.get("service")
        }
        # Sets first, then removals of what no row wants any more: replacing an incident's
        # only service must not pass through "no service", which the service refuses, and a
        # service swapped between two rows is never removed.
        for row_form in formset.forms:
            if row_form in deleted or not row_form.has_changed():
                continue
            original = originals.get(row_form.instance.pk)
            row = services.affected_service_set(
                incident=incident,
                service=row_form.cleaned_data["service"],
                status=row_form.cleaned_data["status"],
                user=user,
            )
            if original is None:
                formset.new_objects.append(row)
            else:
                formset.changed_objects.append((row, row_form.changed_data))
        for original in originals.values():
            if original.service_id not in wanted:
                # A row changed to another service removes the old one: the remove verb too.
                if not allowed(user, verbs.REMOVE_SERVICE, incident):
                    raise RuleError(
                        f"You may not remove {original.service} from this incident.",
                        field="service",
                    )
                services.affected_service_remove(
                    incident=incident, service=original.service, user=user
                )
                formset.deleted_objects.append(original)

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
