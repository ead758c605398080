"""What the on-call admin pages share: saving through the services in the admin's one
transaction, then asking to confirm the rule warnings the change brings.

1. ``save_model`` / ``save_formset`` call the services with the rule check deferred
   (``accept_warnings=True``), noting the warnings that held before.
2. ``save_related`` ends with ``confirm_rules``: a new warning and no "accept" tick raises
   ``WarningsNotAccepted``, which rolls the whole save back.
3. ``changeform_view`` catches it and renders the same POST again, this time with the
   warnings as the error of the "accept" field: the manager reads them, ticks, saves.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from ircore.errors import RuleError

from ..models import FeedToken, HandoffNotice, ShiftSwapRequest
from ..services import WarningsNotAccepted, confirm_rules, warning_keys


class RotationAdmin(SimpleHistoryAdmin):
    # The field leading from a row to the schedule whose rules it may break; None: the row is
    # the schedule itself.
    schedule_field: str | None = None

    def _schedule_of(self, obj):
        return getattr(obj, self.schedule_field) if self.schedule_field else obj

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        pending = getattr(request, "_oncall_warnings", None)
        if not pending:
            return form

        class Confirm(form):
            def clean(self):
                data = super().clean()
                self.add_error("accept_warnings", [w.message for w in pending])
                return data

        return Confirm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except WarningsNotAccepted as caught:
            request._oncall_warnings = caught.warnings
            self.message_user(
                request,
                "Nothing was saved yet: this rotation breaks the seeds' rules. Read the "
                "warnings, tick “Accept rule warnings” and save again, or change it.",
                messages.WARNING,
            )
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleError as error:
            self.message_user(request, f"Nothing was saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_deleted_objects(self, objs, request):
        """Feed links, hand-off notices and swap offers are never deleted one by one (they are
        records), but they go with their schedule or layer: their history stays."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        records = {str(m._meta.verbose_name) for m in (FeedToken, HandoffNotice, ShiftSwapRequest)}
        return deleted, counts, {p for p in perms_needed if p not in records}, protected

    def remember_warnings(self, request, schedule) -> None:
        if not hasattr(request, "_oncall_before"):
            now = timezone.now()
            request._oncall_before = warning_keys(schedule, now) if schedule else set()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        schedule = self._schedule_of(form.instance)
        warnings = confirm_rules(
            schedule=schedule,
            accept=bool(form.cleaned_data.get("accept_warnings")),
            before=getattr(request, "_oncall_before", set()),
            now=timezone.now(),
        )
        if warnings:
            self.message_user(
                request,
                "Saved with accepted warnings: " + " ".join(w.message for w in warnings),
                messages.WARNING,
            )


def saved_as(obj, created) -> None:
    """Make the admin's unsaved ``obj`` the row a service created, so inlines attach to it."""
    obj.pk = created.pk
    obj._state.adding = False
    obj._state.db = created._state.db


def readonly_inline(inline_class):
    """An inline to read, never to edit from here."""

    class ReadOnly(inline_class):
        extra = 0
        can_delete = False

        def has_add_permission(self, request, obj=None):
            return False

        def has_change_permission(self, request, obj=None):
            return False

        def has_delete_permission(self, request, obj=None):
            return False

    ReadOnly.__name__ = inline_class.__name__
    return ReadOnly


__all__ = ["RotationAdmin", "admin", "saved_as", "readonly_inline"]
