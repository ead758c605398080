"""Drills in the admin: the plans per kind (policy rows), and the drills themselves, scheduled
and changed through the services, with a button per verb on a drill's page ("Run game day"
for managers, start, record the assessment, cancel). Leadership reads all of it and changes
nothing (``PostmortemsConfig.role_grants`` gives it the view permissions only)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from ircore.admin import DURATION_OVERRIDES, duration_column
from ircore.errors import RuleError
from ircore.pagination import CappedCountPaginator
from ircore.policy import format_duration

from .. import permissions_drills as verbs
from ..models import Drill, DrillPlan, DrillScenario
from ..models.drills import CADENCE_DAYS
from ..services import drills
from .drill_forms import (
    ActionItemFormSet,
    AssessmentForm,
    CancelForm,
    ConfirmForm,
    DrillForm,
    RunForm,
    add_rule_error,
)

Status = Drill.Status


class DrillScenarioInline(admin.TabularInline):
    model = DrillScenario
    fields = ("quarter", "scenario")
    ordering = ("quarter",)
    extra = 0


@admin.register(DrillPlan)
class DrillPlanAdmin(SimpleHistoryAdmin):
    """How often each kind is run and its targets (the policy file's ``drills`` section), with
    when a drill of the kind was last done and when the next is due by."""

    list_display = ("kind", "every", "detect", "ack", "resolve", "last_done", "due_by")
    inlines = (DrillScenarioInline,)
    formfield_overrides = DURATION_OVERRIDES
    fields = ("kind", "every", "description", "detect_target", "ack_target", "resolve_target")

    detect = duration_column("detect_target", "Detection target")
    ack = duration_column("ack_target", "Acknowledgement target")
    resolve = duration_column("resolve_target", "Resolution target")

    def get_queryset(self, request):
        # drill_kind_done_idx: the latest done drill of each kind.
        done = Drill.objects.filter(kind=OuterRef("kind"), status=Status.DONE).order_by("-ended_at")
        return super().get_queryset(request).annotate(last=Subquery(done.values("ended_at")[:1]))

    @admin.display(description="last done", ordering="last")
    def last_done(self, obj: DrillPlan):
        return obj.last or "never"

    @admin.display(description="next due by")
    def due_by(self, obj: DrillPlan):
        if not obj.every:
            return "—"
        if obj.last is None:
            return "now (none done yet)"
        due = obj.last + timedelta(days=CADENCE_DAYS[obj.every])
        late = " (overdue)" if due < timezone.now() else ""
        return f"{due:%Y-%m-%d}{late}"


def _link(url: str, text: str):
    return format_html('<a href="{}">{}</a>', url, text)


@admin.register(Drill)
class DrillAdmin(SimpleHistoryAdmin):
    form = DrillForm
    change_form_template = "postmortems/drills/change_form.html"
    list_display = ("title", "kind", "status", "scheduled_for", "service", "incident_link")
    list_filter = ("kind", "status")
    list_select_related = ("service", "incident")
    search_fields = ("title", "scenario")
    date_hierarchy = "scheduled_for"
    show_full_result_count = False
    paginator = CappedCountPaginator
    formfield_overrides = DURATION_OVERRIDES
    filter_horizontal = ("participants",)
    ADD_FIELDS = (
        "kind",
        "title",
        "scenario",
        "scheduled_for",
        "participants",
        "service",
        "integration",
        "alert_severity",
    )
    RECORD = (
        "status",
        "incident_link",
        "started_at",
        "started_by",
        "ended_at",
        "ended_by",
        "cancel_reason",
        "performance",
        "communication_score",
        "went_well",
        "to_improve",
        "process_updates",
        "action_item_links",
    )

    # --- the form: schedule, change while scheduled, read afterwards --------------------------

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.ADD_FIELDS
        return (*self.ADD_FIELDS, *drills.TARGETS, *self.RECORD)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.status != Status.SCHEDULED or not self.has_change_permission(request, obj):
            return (*self.ADD_FIELDS, *drills.TARGETS, *self.RECORD)
        return ("kind", *self.RECORD)

    def has_add_permission(self, request):
        return verbs.may(request.user, verbs.SCHEDULE_DRILL)

    def has_delete_permission(self, request, obj=None):
        return False  # a drill is a record: cancel it instead

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refused = getattr(request, "_drill_refusal", None)
        if refused is None:
            return form

        class Refused(form):
            def clean(self):
                data = super().clean()
                add_rule_error(self, refused)
                return data

        return Refused

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A refusal from the service rolls the save back; the same POST is shown again
        with the refusal on the field it names."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleError as error:
            request._drill_refusal = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            made = drills.drill_schedule(
                kind=data["kind"],
                scheduled_for=data["scheduled_for"],
                title=data.get("title", ""),
                scenario=data.get("scenario", ""),
                participants=data.get("participants", ()),
                service=data.get("service"),
                integration=data.get("integration"),
                alert_severity=data.get("alert_severity") or Drill.AlertSeverity.CRITICAL,
                user=request.user,
            )
            obj.pk, obj._state.adding, obj._state.db = made.pk, False, made._state.db
            return
        changes = {f: data[f] for f in form.changed_data if f in drills.EDITABLE}
        participants = data["participants"] if "participants" in form.changed_data else None
        fresh = Drill.objects.get(pk=obj.pk)
        drills.drill_update(drill=fresh, user=request.user, participants=participants, **changes)

    def save_related(self, request, form, formsets, change):
        pass  # participants went through the service with the rest

    # --- what a drill's page shows ------------------------------------------------------------

    @admin.display(description="incident", ordering="incident")
    def incident_link(self, obj: Drill):
        if obj.incident_id is None:
            return "—"
        url = reverse("admin:incidents_incident_change", args=[obj.incident_id])
        return _link(url, obj.incident.reference)

    @admin.display(description="performance against targets")
    def performance(self, obj: Drill):
        def shown(value):
            return format_duration(value) if value is not None else "—"

        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (m.name, shown(m.actual), shown(m.target), {True: "met", False: "missed"}.get(
                    m.met, "—"))
                for m in obj.measures()
            ),
        )  # fmt: skip
        return format_html(
            "<table><thead><tr><th>Measure</th><th>Actual</th><th>Target</th><th></th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="action items")
    def action_item_links(self, obj: Drill):
        items = list(obj.action_items.select_related("owner").order_by("due_on", "id"))
        if not items:
            return "—"
        return format_html_join(
            mark_safe("<br>"),  # a constant
            "{} ({}, due {})",
            ((i.title, i.owner.get_username() if i.owner else "no owner", i.due_on) for i in items),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["drill_buttons"] = self._buttons(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _buttons(self, request, drill: Drill) -> list[tuple[str, str]]:
        user, found = request.user, []
        if drill.status == Status.SCHEDULED:
            if drill.kind == Drill.Kind.GAME_DAY and verbs.may(user, verbs.RUN_DRILL):
                found.append(("run", "Run game day"))
            elif drill.kind != Drill.Kind.GAME_DAY and verbs.may(user, verbs.RUN_DRILL):
                found.append(("start", "Start drill"))
        if drill.status == Status.RUNNING and verbs.may(user, verbs.COMPLETE_DRILL):
            found.append(("complete", "Record assessment"))
        if drill.is_open and verbs.may(user, verbs.CANCEL_DRILL):
            found.append(("cancel", "Cancel drill"))
        return [(reverse(f"admin:postmortems_drill_{name}", args=[drill.pk]), label)
                for name, label in found]  # fmt: skip

    # --- the verbs' pages ---------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        views = [
            path(f"<path:object_id>/{name}/", wrap(view), name=f"postmortems_drill_{name}")
            for name, view in (
                ("run", self.run_view),
                ("start", self.start_view),
                ("complete", self.complete_view),
                ("cancel", self.cancel_view),
            )
        ]
        return [*views, *super().get_urls()]

    def _verb_view(
        self,
        request: HttpRequest,
        object_id: str,
        *,
        verb: str,
        title: str,
        form_class: type,
        perform: Callable[[Drill, Any, Any], str],
        submit_label: str,
        formset_class: type | None = None,
    ) -> HttpResponse:
        """GET shows the verb's form; POST calls the service and goes back to the drill with
        a message, or shows the refusal on the field it names (nothing was written)."""
        if not verbs.may(request.user, verb):
            raise PermissionDenied
        drill = self.get_object(request, unquote(object_id))
        if drill is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        back = reverse("admin:postmortems_drill_change", args=[drill.pk])
        kwargs = {"drill": drill} if form_class is AssessmentForm else {}
        formset = None
        if request.method == "POST":
            form = form_class(request.POST, **kwargs)
            formset = formset_class(request.POST, prefix="items") if formset_class else None
            if form.is_valid() and (formset is None or formset.is_valid()):
                try:
                    message = perform(drill, form.cleaned_data, formset)
                except RuleError as error:
                    add_rule_error(form, error)
                else:
                    self.message_user(request, message, messages.SUCCESS)
                    return HttpResponseRedirect(back)
        else:
            form = form_class(**kwargs)
            formset = formset_class(prefix="items") if formset_class else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": drill,
            "title": title,
            "form": form,
            "formset": formset,
            "submit_label": submit_label,
            "back": back,
            "media": self.media + form.media + (formset.media if formset else form.media),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "postmortems/drills/verb_form.html", context)

    def run_view(self, request, object_id):
        def perform(drill, data, _):
            now = timezone.now()
            drills.drill_run(
                drill=drill,
                user=request.user,
                now=now,
                fault_started_at=now - timedelta(minutes=data["fault_minutes_ago"]),
            )
            return (
                f"Game day running: {drill.incident.reference} declared by its synthetic alert "
                f"through {drill.integration}; the participants are paged as the escalation "
                "policy says."
            )

        return self._verb_view(
            request,
            object_id,
            verb=verbs.RUN_DRILL,
            title="Run game day",
            form_class=RunForm,
            perform=perform,
            submit_label="Inject the synthetic alert",
        )

    def start_view(self, request, object_id):
        def perform(drill, data, _):
            drills.drill_start(drill=drill, user=request.user)
            return f"{drill} started."

        return self._verb_view(
            request,
            object_id,
            verb=verbs.RUN_DRILL,
            title="Start drill",
            form_class=ConfirmForm,
            perform=perform,
            submit_label="Start",
        )

    def complete_view(self, request, object_id):
        def perform(drill, data, formset):
            items = [
                drills.ActionItemDraft(
                    title=f["title"],
                    kind=f["kind"],
                    owner=f.get("owner"),
                    priority=f["priority"],
                    due_on=f["due_on"],
                )
                for f in formset.cleaned_data
                if f
            ]
            drills.drill_complete(
                drill=drill,
                user=request.user,
                went_well=data["went_well"],
                to_improve=data["to_improve"],
                process_updates=data["process_updates"],
                communication_score=data["communication_score"],
                actuals={k: data[k] for k in drills.ACTUALS if k in data},
                action_items=items,
            )
            return f"{drill}: assessment recorded, {len(items)} action item(s)."

        return self._verb_view(
            request,
            object_id,
            verb=verbs.COMPLETE_DRILL,
            title="Post-drill assessment",
            form_class=AssessmentForm,
            formset_class=ActionItemFormSet,
            perform=perform,
            submit_label="Record and end the drill",
        )

    def cancel_view(self, request, object_id):
        def perform(drill, data, _):
            drills.drill_cancel(drill=drill, user=request.user, reason=data["reason"])
            return f"{drill} cancelled."

        return self._verb_view(
            request,
            object_id,
            verb=verbs.CANCEL_DRILL,
            title="Cancel drill",
            form_class=CancelForm,
            perform=perform,
            submit_label="Cancel the drill",
        )
