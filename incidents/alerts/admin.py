"""The integrations' admin: the list, the integration page with its routing rules (in
order), where its monitor posts and what to paste into it, "Rotate token", and the "try a
payload" box.

A token is shown once: on the page that answers the creation (``integration_create``) or a
rotation (``integration_rotate_token``), marked ``no-store``, and never again (only its hash
and last characters are kept). An integration a policy import made has no token until one
is rotated in. Settings are saved through ``integration_update`` (checked, one history row
naming them, and when the heartbeat's first ping is due); the routing rules are the inline's
rows, each saved with its history.

Registered from ``incidents.admin`` (the alerts area is not an app of its own). Alerts and
maintenance windows: ``admin_alerts``, ``admin_maintenance``.
"""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from ircore.errors import RuleError
from ircore.policy import format_duration
from ircore.verbs import Verb, may, register

from ..admin.display import time_columns
from ..admin.inlines import _no_policy_editing_from_here
from ..policy_integrations import has_token
from .admin_config import endpoint_url, snippets
from .admin_forms import IntegrationForm, RoutingRuleForm, TryPayloadForm
from .models import Integration, RoutingRule
from .services import (
    integration_create,
    integration_rotate_token,
    integration_update,
    preview,
)
from .services.integrations import SETTINGS

CREATE_INTEGRATION = "create_integration"
ROTATE_TOKEN = "rotate_integration_token"
TRY_PAYLOAD = "try_alert_payload"
# Verbs on no incident: ``on_closed`` means nothing for them (set so that the closed-incident
# rules, which list the verbs an incident refuses once closed, leave them out).
register(
    Verb(
        CREATE_INTEGRATION,
        ("incidents.add_integration",),
        "Create an alert integration.",
        on_closed=True,
    ),
    Verb(
        ROTATE_TOKEN,
        ("incidents.view_integration", "incidents.change_integration"),
        "Give an integration a new token (the old one stops working).",
        on_closed=True,
    ),
    Verb(
        TRY_PAYLOAD,
        ("incidents.view_integration",),
        "See what a pasted payload would become (stores nothing).",
        on_closed=True,
    ),
)


class RoutingRuleInline(admin.TabularInline):
    """Read in ``position`` order: the first matching rule naming a service sets it, the
    first naming a severity sets it."""

    model = RoutingRule
    form = RoutingRuleForm
    fields = ["position", "label", "value", "service", "severity"]
    extra = 1
    ordering = ["position", "id"]
    verbose_name_plural = "routing rules (in order: the first match naming each wins)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service", "severity")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        _no_policy_editing_from_here(field)
        return field

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Read the services and severities once for every row's <select>.
        for name in ("service", "severity"):
            field = formset.form.base_fields[name]
            field.choices = list(field.choices)
        return formset


def _token_state(obj: Integration) -> str:
    if obj.pk is None:
        return "Made when you save; shown once."
    if not has_token(obj):
        return "None yet (imported from a policy file): rotate one in to start taking alerts."
    return f"…{obj.token_hint} (shown once when it was made; rotate for a new one)"


@admin.register(Integration)
class IntegrationAdmin(
    time_columns(Integration, ["last_ping_at", "heartbeat_due_at", "created_at"]),
    SimpleHistoryAdmin,
):
    form = IntegrationForm
    change_form_template = "admin/incidents/alerts/integration_change_form.html"
    inlines = [RoutingRuleInline]
    list_display = [
        "name",
        "kind",
        "enabled",
        "service",
        "severity",
        "rules_col",
        "token_col",
        "heartbeat_col",
        "last_ping_at_shown",
    ]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "slug"]
    list_select_related = ["service", "severity"]
    readonly_fields = [
        "slug",
        "token",
        "endpoint",
        "configuration",
        "last_ping_at_shown",
        "heartbeat_due_at_shown",
        "created_by",
        "created_at_shown",
    ]

    def get_fieldsets(self, request, obj=None):
        main = ["name", "kind", "enabled", "service", "severity"]
        if obj is not None:
            main = ["name", "slug", "kind", "enabled", "service", "severity"]
        fieldsets = [
            (None, {"fields": main}),
            (
                "Deduplication and grouping",
                {"fields": ["dedup_labels", "group_window", "auto_resolve"]},
            ),
            (
                "Heartbeat (a dead man's switch)",
                {"fields": ["heartbeat_every", "heartbeat_grace"]},
            ),
        ]
        if obj is not None:
            fieldsets[2][1]["fields"] += ["last_ping_at_shown", "heartbeat_due_at_shown"]
            fieldsets.insert(
                1, ("Where the monitor posts", {"fields": ["token", "endpoint", "configuration"]})
            )
            fieldsets.append(
                ("Record", {"classes": ["collapse"], "fields": ["created_by", "created_at_shown"]})
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None:
            fields.append("kind")  # its endpoint and token shape; make a new one instead
        return fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rule_count=Count("rules"))

    # --- columns and read-only fields ------------------------------------------------------

    @admin.display(description="rules", ordering="rule_count")
    def rules_col(self, obj: Integration) -> int:
        return obj.rule_count

    @admin.display(description="token")
    def token_col(self, obj: Integration) -> str:
        return f"…{obj.token_hint}" if has_token(obj) else "none yet"

    @admin.display(description="heartbeat")
    def heartbeat_col(self, obj: Integration) -> str:
        return f"every {format_duration(obj.heartbeat_every)}" if obj.heartbeat_every else "—"

    @admin.display(description="token")
    def token(self, obj: Integration) -> str:
        return _token_state(obj)

    @admin.display(description="endpoint URL")
    def endpoint(self, obj: Integration) -> str:
        return format_html("<code>{}</code>", endpoint_url(obj.kind))

    @admin.display(description="configuration")
    def configuration(self, obj: Integration) -> str:
        return format_html_join(
            "",
            '<p class="ir-snippet-title">{}</p><pre class="ir-json ir-wrap">{}</pre>',
            ((s.title, s.text) for s in snippets(obj)),
        )

    # --- history: for reading ---------------------------------------------------------------

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # A revert would bring back an old token's hash (a rotated token working again) and
        # skip the heartbeat's service: refused, not only hidden.
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    # --- saving through the services ---------------------------------------------------------

    def has_add_permission(self, request):
        return may(request.user, CREATE_INTEGRATION)

    def save_model(self, request, obj: Integration, form, change: bool) -> None:
        """Through the services: ``integration_create`` (a new one, its token shown once),
        then ``integration_update`` for the settings the form changed (checked there, one
        history row, the heartbeat's due time). The form's instance becomes the saved row,
        for the routing rules' inline saved after it."""
        settings = {name: form.cleaned_data[name] for name in form.changed_data if name in SETTINGS}
        if change:
            target = Integration.objects.get(pk=obj.pk)
        else:
            target, request._integration_token = integration_create(
                name=obj.name,
                kind=obj.kind,
                service=obj.service,
                severity=obj.severity,
                user=request.user,
            )
            for name in ("name", "service", "severity"):
                settings.pop(name, None)
        if settings:
            integration_update(integration=target, user=request.user, **settings)
        saved = Integration.objects.get(pk=target.pk)
        for field in Integration._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        token = getattr(request, "_integration_token", None)
        if token is None:
            return super().response_add(request, obj, post_url_continue)
        return self._token_page(request, obj, token, made="created")

    def _token_page(self, request: HttpRequest, obj: Integration, token: str, made: str):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"{obj.name}: token {made}",
            "made": made,
            "token": token,
            "endpoint": endpoint_url(obj.kind),
            "snippets": snippets(obj, token),
            "change_url": self._url("change", obj.pk),
        }
        response = TemplateResponse(
            request, "admin/incidents/alerts/integration_token.html", context
        )
        # The one time the token is shown: no cache, no back-button copy.
        response["Cache-Control"] = "no-store"
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleError as error:
            self.message_user(request, f"Nothing was saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # --- rotate token, try a payload ---------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/rotate-token/",
                wrap(self.rotate_token_view),
                name=f"{prefix}_rotate_token",
            ),
            path("<path:object_id>/try/", wrap(self.try_view), name=f"{prefix}_try"),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args: Any) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}",
            args=args,
            current_app=self.admin_site.name,
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["ir_alerts"] = {
                "can_rotate": may(request.user, ROTATE_TOKEN),
                "can_try": may(request.user, TRY_PAYLOAD),
                "rotate_url": self._url("rotate_token", obj.pk),
                "try_url": self._url("try", obj.pk),
                "try_form": TryPayloadForm(auto_id="try_%s"),
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def rotate_token_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not may(request.user, ROTATE_TOKEN):
            raise PermissionDenied
        obj = get_object_or_404(Integration, pk=object_id)
        if request.method == "POST":
            token = integration_rotate_token(integration=obj, user=request.user)
            return self._token_page(request, obj, token, made="rotated")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"Rotate the token of {obj.name}?",
            "has_token": has_token(obj),
            "change_url": self._url("change", obj.pk),
        }
        return TemplateResponse(request, "admin/incidents/alerts/rotate_token.html", context)

    def try_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not may(request.user, TRY_PAYLOAD):
            raise PermissionDenied
        obj = get_object_or_404(
            Integration.objects.select_related("service", "severity"), pk=object_id
        )
        results = None
        if request.method == "POST":
            form = TryPayloadForm(request.POST, auto_id="try_%s")
            if form.is_valid():
                try:
                    results = preview(integration=obj, payload=form.cleaned_data["payload"])
                except RuleError as error:
                    form.add_error("payload", error.message)
        else:
            form = TryPayloadForm(auto_id="try_%s")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"Try a payload on {obj.name}",
            "form": form,
            "results": results,
            "change_url": self._url("change", obj.pk),
            "try_url": self._url("try", obj.pk),
        }
        return TemplateResponse(request, "admin/incidents/alerts/try_payload.html", context)
