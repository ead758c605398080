"""The notice admin: the list with its filters, the draft form (from a template or by hand),
the notice's page with its preview, recipients, comments and the review's buttons, and the
internal routes.

Every change goes through ``comms.services.notices``: the forms' ``clean`` calls ``draft`` or
``update``, each button and list action its verb, deleting a draft ``discard``. Which button
a person sees is ``comms.permissions.refusal``'s answer (the one the services enforce and the
API gets) together with what the notice's state allows.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from ircore.errors import RuleError
from ircore.markdown import render_markdown
from ircore.pagination import CappedCountPaginator

from .. import permissions as verbs
from ..models import Audience, InternalRoute, Notice
from ..services import notice_sends, notices
from .notice_forms import NoticeAddForm, NoticeChangeForm, SendBackForm

Status = Notice.Status

# step: (button label, service): the buttons that post without a form.
STEPS = {
    "submit": ("Submit for review", lambda n, user: notices.submit(notice=n, user=user)),
    "approve": ("Approve", lambda n, user: notices.approve(notice=n, user=user)),
    "legal_approve": (
        "Give legal approval",
        lambda n, user: notices.legal_approve(notice=n, user=user),
    ),
    "publish": ("Publish", lambda n, user: notices.publish(n, user=user)),
}
DONE = {
    "submit": "submitted for review",
    "approve": "approved",
    "legal_approve": "given its legal approval",
    "publish": "published",
}


class LegalReviewFilter(admin.SimpleListFilter):
    title = "legal review"
    parameter_name = "legal"

    def lookups(self, request, model_admin):
        return [("awaiting", "Awaiting a legal reviewer"), ("required", "Needed")]

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.awaiting_legal_review()
        if self.value() == "required":
            return queryset.filter(incident__incident_type__legal_review_required=True)
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = "whose"
    parameter_name = "whose"

    def lookups(self, request, model_admin):
        return [("mine", "Written or changed by me")]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(writers=request.user)
        return queryset


@admin.register(Notice)
class NoticeAdmin(SimpleHistoryAdmin):
    list_display = [
        "subject",
        "incident_ref",
        "audience",
        "status",
        "legal",
        "created_by",
        "created_at",
        "published_at",
    ]
    list_filter = [
        "status",
        "audience",
        LegalReviewFilter,
        MineFilter,
        ("incident__severity", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["subject", "incident__reference", "incident__title"]
    # Search incidents by reference or title, as on their list (a million rows fit).
    autocomplete_fields = ["incident"]
    list_select_related = ["incident", "incident__incident_type", "created_by"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = ["submit_selected", "approve_selected", "legal_approve_selected", "publish_selected"]
    change_form_template = "admin/comms/notice/change_form.html"
    # What the page shows beside its panel (which has the text, the preview and the review).
    readonly_fields = ["incident_ref", "audience", "status", "components_shown", "template"]

    class Media:
        css = {"all": ["comms/notices.css"]}

    # --- who sees what ---------------------------------------------------------------------

    def has_view_permission(self, request, obj=None):
        return verbs.may(request.user, verbs.VIEW_NOTICES)

    def has_add_permission(self, request):
        return verbs.may(request.user, verbs.DRAFT_NOTICE)

    def has_change_permission(self, request, obj=None):
        # The form is the edit verb, on drafts only; the review steps are the page's buttons.
        if not verbs.may(request.user, verbs.EDIT_NOTICE):
            return False
        return obj is None or obj.is_editable

    def has_delete_permission(self, request, obj=None):
        # Only a draft is discarded, one at a time (its page's Delete link, via the service).
        if obj is None or not obj.is_editable:
            return False
        return not verbs.refusal(request.user, verbs.DISCARD_NOTICE, obj)

    def get_actions(self, request):
        found = super().get_actions(request)
        found.pop("delete_selected", None)
        needs = {
            "submit_selected": verbs.may(request.user, verbs.SUBMIT_NOTICE),
            "approve_selected": verbs.may_review_any(request.user),
            "legal_approve_selected": verbs.may(request.user, verbs.LEGAL_APPROVE_NOTICE),
            "publish_selected": verbs.may_review_any(request.user),
        }
        return {name: action for name, action in found.items() if needs.get(name, True)}

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # A revert would save an old version past the review: refused, not only hidden.
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    # --- list columns ----------------------------------------------------------------------

    @admin.display(description="incident", ordering="incident__reference")
    def incident_ref(self, obj: Notice) -> str:
        return obj.incident.reference

    @admin.display(description="legal review")
    def legal(self, obj: Notice) -> str:
        if not obj.legal_review_required:
            return "—"
        return "cleared" if obj.legal_approved_at else "needed"

    @admin.display(description="components")
    def components_shown(self, obj: Notice) -> str:
        if obj.audience != Audience.CUSTOMERS:
            return "—"
        return ", ".join(c.display_public_name for c in obj.components.all()) or "—"

    # --- forms -----------------------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = NoticeChangeForm if obj is not None else NoticeAddForm
        user = request.user

        class Form(base):
            def __init__(self, *args, **inner):
                super().__init__(*args, user=user, **inner)

        kwargs["form"] = Form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(NoticeAddForm._meta.fields)
        if self.has_change_permission(request, obj):
            editable = ["subject", "body"]
            if obj.audience == Audience.CUSTOMERS:
                editable.append("components")
            return ["incident_ref", "audience", "status", *editable]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if self.has_change_permission(request, obj):
            return ["incident_ref", "audience", "status"]
        return self.readonly_fields

    def get_changeform_initial_data(self, request):
        # "Draft a notice" on the incident page: ?incident=<id>.
        initial = super().get_changeform_initial_data(request)
        raw = request.GET.get("incident", "")
        if raw.isdigit() and len(raw) <= 18:
            initial["incident"] = int(raw)
        return initial

    def save_form(self, request, form, change):
        # The form's clean already saved through the service.
        return form.result

    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        pass

    def response_add(self, request, obj, post_url_continue=None):
        # On to the notice's page: its preview, and the Submit button.
        self.message_user(request, f"Drafted “{obj.subject}”.", messages.SUCCESS)
        return HttpResponseRedirect(self._url("change", obj.pk))

    def delete_model(self, request, obj):
        notices.discard(notice=obj, user=request.user)

    # --- the notice's page -----------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["notice"] = self._panel(request, obj)
        context["show_save_and_add_another"] = False
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _panel(self, request: HttpRequest, notice: Notice) -> dict[str, Any]:
        can = verbs.steps(request.user, notice)
        steps = [
            {"step": step, "label": STEPS[step][0], "url": self._url(step, notice.pk)}
            for step in ("submit", "approve", "legal_approve", "publish")
            if can[step]
        ]
        return {
            "preview": render_markdown(notice.body),
            "recipients": [r.label for r in notice_sends.recipients(notice)],
            "is_customer": notice.audience == Audience.CUSTOMERS,
            "components": [c.display_public_name for c in notice.components.order_by("name")],
            "comments": list(notice.comments.select_related("author").order_by("-created_at")),
            "steps": steps,
            "send_back_url": self._url("send_back", notice.pk) if can["send_back"] else "",
            # A legal reviewer reads the notice, not necessarily the incident.
            "incident_url": reverse("admin:incidents_incident_change", args=[notice.incident_id])
            if verbs.may(request.user, "view_incident")
            else "",
        }

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        steps = [
            path(
                f"<path:object_id>/{step.replace('_', '-')}/",
                wrap(self._step_view(step)),
                name=f"{prefix}_{step}",
            )
            for step in STEPS
        ]
        return [
            *steps,
            path(
                "<path:object_id>/send-back/",
                wrap(self.send_back_view),
                name=f"{prefix}_send_back",
            ),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args: Any) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}",
            args=args,
            current_app=self.admin_site.name,
        )

    def _notice(self, request, object_id) -> Notice | None:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self.get_object(request, unquote(object_id))

    def _step_view(self, step: str):
        def view(request: HttpRequest, object_id: str) -> HttpResponse:
            notice = self._notice(request, object_id)
            if notice is None:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
            if request.method != "POST":
                return HttpResponseRedirect(self._url("change", notice.pk))
            self._run(request, step, notice)
            return HttpResponseRedirect(self._url("change", notice.pk))

        return view

    def _run(self, request: HttpRequest, step: str, notice: Notice) -> bool:
        """Call the step's service; report the outcome. True when it happened."""
        try:
            STEPS[step][1](notice, request.user)
        except RuleError as error:
            self.message_user(request, f"“{notice.subject}”: {error.message}", messages.ERROR)
            return False
        self.message_user(request, f"“{notice.subject}” {DONE[step]}.", messages.SUCCESS)
        return True

    def send_back_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        notice = self._notice(request, object_id)
        if notice is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        reason = verbs.refusal(request.user, verbs.SEND_BACK_NOTICE, notice)
        if reason:
            raise PermissionDenied(reason)
        form = SendBackForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                notices.send_back(
                    notice=notice, user=request.user, comment=form.cleaned_data["comment"]
                )
            except RuleError as error:
                form.add_error("comment" if error.field == "comment" else None, error.message)
            else:
                self.message_user(
                    request, f"“{notice.subject}” sent back to draft.", messages.SUCCESS
                )
                return HttpResponseRedirect(self._url("change", notice.pk))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": notice,
            "title": "Send back to draft",
            "form": form,
            "has_view_permission": True,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/comms/notice/send_back.html", context)

    # --- list actions ----------------------------------------------------------------------

    def _bulk(self, request, queryset, step: str) -> None:
        done = sum(
            self._run(request, step, notice)
            for notice in queryset.select_related("incident", "incident__incident_type")
        )
        if done > 1:
            self.message_user(request, f"{done} notices {DONE[step]}.", messages.INFO)

    @admin.action(description="Submit the selected drafts for review")
    def submit_selected(self, request, queryset):
        self._bulk(request, queryset, "submit")

    @admin.action(description="Approve the selected notices")
    def approve_selected(self, request, queryset):
        self._bulk(request, queryset, "approve")

    @admin.action(description="Give the selected notices their legal approval")
    def legal_approve_selected(self, request, queryset):
        self._bulk(request, queryset, "legal_approve")

    @admin.action(description="Publish the selected notices")
    def publish_selected(self, request, queryset):
        self._bulk(request, queryset, "publish")


@admin.register(InternalRoute)
class InternalRouteAdmin(SimpleHistoryAdmin):
    """Where internal updates go; the notice's page lists the routes it will reach."""

    list_display = ["endpoint", "scope", "endpoint_kind"]
    list_select_related = ["endpoint", "team", "service", "incident"]
    list_filter = ["endpoint__kind", "team", "service"]
    raw_id_fields = ["incident"]
    fields = ["endpoint", "team", "service", "incident"]

    def has_add_permission(self, request):
        return verbs.may(request.user, verbs.MANAGE_INTERNAL_ROUTES)

    def has_change_permission(self, request, obj=None):
        return verbs.may(request.user, verbs.MANAGE_INTERNAL_ROUTES)

    def has_delete_permission(self, request, obj=None):
        return verbs.may(request.user, verbs.MANAGE_INTERNAL_ROUTES)

    @admin.display(description="kind", ordering="endpoint__kind")
    def endpoint_kind(self, obj: InternalRoute) -> str:
        return obj.endpoint.get_kind_display()
