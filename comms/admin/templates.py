"""The templates' admin: the list (by kind and audience), the form (subject and body checked
as they are saved: an unknown placeholder or a syntax error is a form error listing what is
available, with the placeholders' help below the form), the history, and "Preview", which
renders a template against a real incident the viewer picks and changes nothing.

Who: incident managers change templates; responders and support read them and preview them;
leadership reads them (``comms.apps`` grants, ``comms.permissions`` for the preview verb).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from jinja2 import TemplateSyntaxError, meta
from simple_history.admin import SimpleHistoryAdmin

from comms.models import Audience, Template
from comms.permissions import PREVIEW_TEMPLATE
from comms.rendering import INTERNAL, PLACEHOLDERS, RenderError, example, render
from comms.rendering.sandbox import ENVIRONMENT
from comms.services.templates import template_delete, template_save
from incidents.models import Incident
from ircore.verbs import may

# The incidents the picker offers, newest open ones first (incident_open_first_idx); any
# other is reached by its reference.
PICKER_SIZE = 50


class TemplateForm(forms.ModelForm):
    class Meta:
        model = Template
        fields = ["name", "kind", "audience", "active", "subject", "body"]
        widgets = {
            "subject": forms.TextInput(attrs={"class": "vLargeTextField", "size": 100}),
            "body": forms.Textarea(attrs={"rows": 22, "cols": 100, "spellcheck": "false"}),
        }
        help_texts = {
            "subject": "One line; line breaks become spaces and a rendered subject is cut "
            "at 300 characters.",
            "body": "Placeholders in {{ }}, loops in {% for s in services %}...{% endfor %}: "
            "see the list below the form. What the incident cannot know stays in [brackets] "
            "for the writer of the notice.",
        }


def placeholder_rows() -> list[dict[str, Any]]:
    """The placeholders' help: name, what it is, an example, whether it is internal."""
    rows = []
    for name, description in PLACEHOLDERS.items():
        value = example(name)
        shown = (
            ", ".join(str(v) for v in value)
            if isinstance(value, list) and not (value and isinstance(value[0], dict))
            else ("(a list)" if isinstance(value, list) else value)
        )
        rows.append(
            {
                "name": name,
                "description": description,
                "example": "yes" if shown is True else "no" if shown is False else shown,
                "internal": name in INTERNAL,
            }
        )
    return rows


def internal_names(source: str) -> list[str]:
    """The internal placeholders a template names (top-level names: a list's parts are as
    internal as the list)."""
    try:
        used = meta.find_undeclared_variables(ENVIRONMENT.parse(source))
    except TemplateSyntaxError:
        return []
    return sorted(used & {n for n in INTERNAL if "." not in n and "[" not in n})


class PreviewForm(forms.Form):
    """Pick an incident: from the list of recent ones, or by reference."""

    incident = forms.TypedChoiceField(coerce=int, required=False, label="Recent incident")
    reference = forms.CharField(
        required=False,
        max_length=32,
        label="or its reference",
        widget=forms.TextInput(attrs={"placeholder": "INC-2025-03-14-001"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recent = Incident.objects.order_by("-open_rank", "-declared_at", "-id").only(
            "id", "reference", "title", "status"
        )[:PICKER_SIZE]
        self.fields["incident"].choices = [("", "---------")] + [
            (i.pk, f"{i.reference} {i.title} ({i.get_status_display()})") for i in recent
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        reference = (data.get("reference") or "").strip()
        if reference:
            found = Incident.objects.filter(reference__iexact=reference).first()
            if found is None:
                raise ValidationError({"reference": f"No incident has the reference {reference}."})
        elif data.get("incident"):
            found = Incident.objects.filter(pk=data["incident"]).first()
            if found is None:  # removed since the page was shown
                raise ValidationError({"incident": "That incident no longer exists."})
        else:
            raise ValidationError("Choose an incident, or type its reference.")
        data["found"] = found
        return data


@admin.register(Template)
class TemplateAdmin(SimpleHistoryAdmin):
    form = TemplateForm
    change_form_template = "admin/comms/template/change_form.html"
    list_display = ["name", "kind", "audience", "active", "subject"]
    list_filter = ["kind", "audience", "active"]
    search_fields = ["name", "subject"]
    ordering = ["kind", "name"]

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name=f"{prefix}_preview",
            ),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args: Any) -> str:
        opts = self.opts
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_{name}",
            args=args,
            current_app=self.admin_site.name,
        )

    def save_model(self, request, obj, form, change):
        template_save(template=obj, user=request.user)

    def delete_model(self, request, obj):
        template_delete(template=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for template in queryset:
            template_delete(template=template, user=request.user)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["ir_templates"] = {
            "placeholders": placeholder_rows(),
            "time_example": example("detected_at"),
            "can_preview": obj is not None and may(request.user, PREVIEW_TEMPLATE),
            "preview_url": self._url("preview", obj.pk) if obj is not None else "",
        }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not may(request.user, PREVIEW_TEMPLATE):
            raise PermissionDenied
        template = get_object_or_404(Template, pk=object_id)
        form = PreviewForm(request.GET if request.GET else None)
        rendered = error = incident = None
        if form.is_bound and form.is_valid():
            incident = form.cleaned_data["found"]
            try:
                rendered = render(template.subject, template.body, incident)
            except RenderError as exc:
                error = f"{exc.field}: {exc.message}"
        internal = (
            internal_names(f"{template.subject}\n{template.body}")
            if template.audience == Audience.CUSTOMERS
            else []
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": template,
            "title": f"Preview {template.name}",
            "form": form,
            "incident": incident,
            "rendered": rendered,
            "error": error,
            "internal": internal,
            "change_url": self._url("change", template.pk),
            "preview_url": self._url("preview", template.pk),
        }
        return TemplateResponse(request, "admin/comms/template/preview.html", context)
