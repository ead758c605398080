"""The notice admin's forms. Each form's ``clean`` hands its values to the service
(``comms.services.notices``), so a refusal is shown on the field it names and nothing is
saved; ``result`` is the notice the service made or changed."""

from typing import Any

from django import forms

from ircore.errors import RuleError
from ircore.models import Service

from ..models import Audience, Notice, Template
from ..services import notices

COMPONENTS_HELP = (
    "Customer notices only: the status-page components it is about (their subscribers hear "
    "of it). None ticked: the incident's public affected services."
)


def _show(form: forms.Form, error: RuleError) -> None:
    """A service's refusal on the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _public_services():
    return Service.objects.filter(public=True).order_by("name")


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Template) -> str:
        return f"{obj.name} ({obj.get_audience_display().lower()})"


class NoticeAddForm(forms.ModelForm):
    """A new draft: from a template (its subject and body are rendered against the incident
    for whatever is left empty) or by hand."""

    audience = forms.ChoiceField(
        choices=[("", "The template's")] + list(Audience.choices),
        required=False,
        help_text="Whom it speaks to. With a template, its audience.",
    )
    template = TemplateChoiceField(
        queryset=Template.objects.filter(active=True).order_by("audience", "kind", "name"),
        required=False,
        help_text="Leave subject and body empty to have them written from the template; "
        "you can change them before submitting.",
    )
    subject = forms.CharField(max_length=300, required=False)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12}),
        required=False,
        help_text="Markdown. Required without a template.",
    )
    components = forms.ModelMultipleChoiceField(
        queryset=_public_services(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=COMPONENTS_HELP,
    )

    class Meta:
        model = Notice
        fields = ["incident", "audience", "template", "subject", "body", "components"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.result: Notice | None = None

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.result = notices.draft(
                incident=data.get("incident"),
                user=self.user,
                audience=data.get("audience") or None,
                template=data.get("template"),
                subject=data.get("subject", ""),
                body=data.get("body", ""),
                components=list(data["components"]) if data.get("components") else None,
            )
        except RuleError as error:
            _show(self, error)
        return data


class NoticeChangeForm(forms.ModelForm):
    """A draft's text and components; whoever changes them becomes one of its writers."""

    components = forms.ModelMultipleChoiceField(
        queryset=_public_services(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=COMPONENTS_HELP,
    )

    class Meta:
        model = Notice
        fields = ["subject", "body", "components"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.result: Notice | None = None
        if "body" in self.fields:
            self.fields["body"].help_text = "Markdown; the preview above shows how it reads."
        if self.instance.audience != Audience.CUSTOMERS:
            self.fields.pop("components", None)

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        components = data.get("components")
        try:
            self.result = notices.update(
                notice=Notice.objects.get(pk=self.instance.pk),
                user=self.user,
                subject=data.get("subject"),
                body=data.get("body"),
                components=list(components) if components is not None else None,
            )
        except RuleError as error:
            _show(self, error)
        return data


class SendBackForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What should change: the writer reads it with the notice.",
    )
