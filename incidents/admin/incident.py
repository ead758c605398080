"""The incident admin: the change list and the incident page."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from ircore.errors import RuleError
from ircore.models import Severity
from ircore.pagination import CappedCountPaginator

from .. import permissions as verbs
from ..alerts.admin_alerts import AlertInline
from ..forms import (
    IncidentAdminForm,
    severity_badge,
    severity_stylesheet,
)
from ..models import (
    TIMESTAMP_ORDER,
    Incident,
)
from ..selectors import incident_list
from .access import allowed
from .bulk import IncidentBulkActions
from .buttons import IncidentButtonViews
from .display import age_text, time_columns
from .filters import OpenStateFilter
from .inlines import (
    AffectedServiceInline,
    ChecklistInline,
    RoleInline,
    TimelineInline,
    _no_policy_editing_from_here,
)
from .page import IncidentPage, buttons_help
from .saving import IncidentSaving

# Times the page only shows (``x_shown``, with their zone); the lifecycle times too, for those
# who read the page without editing it.
SHOWN_TIMES = (
    *TIMESTAMP_ORDER,
    "regulatory_due_at",
    "regulator_notified_at",
    "evidence_preserved_at",
    "credentials_rotated_at",
    "created_at",
    "updated_at",
)
IncidentTimes = time_columns(Incident, SHOWN_TIMES)


@admin.register(Incident)
class IncidentAdmin(
    IncidentPage,
    IncidentSaving,
    IncidentButtonViews,
    IncidentBulkActions,
    IncidentTimes,
    SimpleHistoryAdmin,
):
    form = IncidentAdminForm
    list_display = [
        "reference",
        "title",
        "severity_col",
        "status",
        "ic",
        "declared_at_shown",
        "age",
        "services_col",
    ]
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
    # Counts at most 10,001 rows (or the planner's estimate): flat at a million rows.
    paginator = CappedCountPaginator
    readonly_fields = [
        "reference",
        "severity_col",
        "status",
        "created_by",
        *(f"{name}_shown" for name in SHOWN_TIMES),
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
            },
        ),
        (
            "Lifecycle times",
            {
                "classes": ["collapse"],
                "fields": list(TIMESTAMP_ORDER),
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
                    "regulatory_due_at_shown",
                    "regulator_notified_at_shown",
                    "evidence_preserved_at_shown",
                    "credentials_rotated_at_shown",
                ],
            },
        ),
        (
            "Record",
            {
                "classes": ["collapse"],
                "fields": ["reference", "created_by", "created_at_shown", "updated_at_shown"],
            },
        ),
    ]
    inlines = [AffectedServiceInline, RoleInline, ChecklistInline, AlertInline, TimelineInline]
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

    ORDER_HELP = (
        "Corrections must keep the order impact started ≤ detected ≤ declared ≤ acknowledged "
        "≤ mitigated ≤ resolved ≤ closed."
    )

    def get_fieldsets(self, request, obj=None):
        """The help texts speak only of what this viewer can use on this incident; a reader
        sees the lifecycle times with their zone instead of inputs."""
        editable = obj is not None and self.has_change_permission(request, obj)
        buttons = self._buttons(request, obj) if obj is not None else {}
        shaped = []
        for title, options in super().get_fieldsets(request, obj):
            options = {**options, "fields": list(options["fields"])}
            if title == "Details":
                options["description"] = buttons_help(buttons) if editable else ""
            elif title == "Lifecycle times":
                if editable:
                    options["description"] = self.ORDER_HELP
                else:
                    options["fields"] = [f"{name}_shown" for name in TIMESTAMP_ORDER]
            shaped.append((title, options))
        return shaped

    def has_add_permission(self, request):
        return allowed(request.user, verbs.DECLARE)

    def has_change_permission(self, request, obj=None):
        # The edit form is the "edit details" verb; a closed incident takes none of it.
        return allowed(request.user, verbs.EDIT_DETAILS, obj)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # A bad id on the change view or any action URL: back to the list, saying so.
        self.message_user(
            request,
            f"There is no incident with id “{object_id}”; here is the list.",
            messages.WARNING,
        )
        return HttpResponseRedirect(self._url("changelist"))

    def get_list_display(self, request):
        # Who runs an incident is for those who may read role assignments (not Support).
        if allowed(request.user, verbs.VIEW_ROLES):
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
            path(
                "severity-colours.css",
                wrap(self.severity_css_view, cacheable=True),
                name=f"{prefix}_severity_css",
            ),
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

    def severity_css_view(self, request: HttpRequest) -> HttpResponse:
        """The severity badges' colours, from the policy, as a stylesheet: no style=""
        attributes, so a Content-Security-Policy without 'unsafe-inline' shows them."""
        css = severity_stylesheet(Severity.objects.only("pk", "colour").order_by("pk"))
        response = HttpResponse(css, content_type="text/css; charset=utf-8")
        # Short: a policy import's new colours show within a minute.
        response["Cache-Control"] = "private, max-age=60"
        return response

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

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleError as error:
            # The form's checks passed but a service refused while saving (someone changed
            # the incident in between). The whole save is one transaction, so nothing stuck.
            self.message_user(request, f"Nothing was saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
