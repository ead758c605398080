"""The postmortem page's buttons (send for review, send back, publish, re-open, hand over,
move the deadline, copy new timeline entries) and exports (Markdown, print view): which a
person sees (``shown_buttons``: the verb table and the state, as the services decide) and the
views that call the services."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from ircore.errors import RuleError

from .. import export
from .. import permissions as perms
from ..models import Postmortem
from ..services import postmortems as services


@dataclass(frozen=True)
class Button:
    name: str
    label: str
    verb: str
    form: type[forms.Form] | None = None
    help: str = ""


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 70}), max_length=2000)


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")
        )


class DeadlineForm(forms.Form):
    due_at = forms.SplitDateTimeField(label="New deadline", widget=admin.widgets.AdminSplitDateTime)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "cols": 70}), max_length=1000)


BUTTONS = {
    b.name: b
    for b in (
        Button("submit", "Send for review", perms.SUBMIT_POSTMORTEM),
        Button("publish", "Publish", perms.PUBLISH_POSTMORTEM),
        Button("send-back", "Send back to draft", perms.SUBMIT_POSTMORTEM, ReasonForm,
               "Say what should change before it is published."),
        Button("reopen", "Re-open", perms.REOPEN_POSTMORTEM, ReasonForm,
               "A published postmortem is read-only; say why it is opened again."),
        Button("reassign", "Hand over", perms.REASSIGN_POSTMORTEM, OwnerForm,
               "The new owner writes it and hears its reminders."),
        Button("deadline", "Move the deadline", perms.SET_POSTMORTEM_DEADLINE, DeadlineForm,
               "The deadline stops following the incident's resolution."),
        Button("refresh", "Copy new incident timeline entries", perms.EDIT_POSTMORTEM),
    )
}  # fmt: skip


def shown_buttons(user: Any, pm: Postmortem) -> list[Button]:
    """The buttons this person can use on this postmortem now (the services agree)."""
    Status = Postmortem.Status
    writes = perms.may_write(user, pm)
    show = {
        "submit": pm.status == Status.DRAFT and writes,
        "publish": pm.status == Status.IN_REVIEW and perms.may(user, perms.PUBLISH_POSTMORTEM),
        "send-back": pm.status == Status.IN_REVIEW and writes,
        "reopen": pm.is_published and perms.may(user, perms.REOPEN_POSTMORTEM),
        "reassign": not pm.is_published and perms.may_reassign(user, pm),
        "deadline": not pm.is_published and perms.may(user, perms.SET_POSTMORTEM_DEADLINE),
        "refresh": not pm.is_published and writes,
    }
    return [BUTTONS[name] for name, ok in show.items() if ok]


def perform(name: str, pm: Postmortem, user: Any, data: dict) -> str:
    """Call the button's service; the message to show."""
    if name == "submit":
        services.postmortem_submit(postmortem=pm, user=user)
        return "Sent for review."
    if name == "publish":
        services.postmortem_publish(postmortem=pm, user=user)
        return "Published. It is read-only now."
    if name == "send-back":
        services.postmortem_send_back(postmortem=pm, user=user, reason=data["reason"])
        return "Sent back to draft."
    if name == "reopen":
        services.postmortem_reopen(postmortem=pm, user=user, reason=data["reason"])
        return "Re-opened as a draft."
    if name == "reassign":
        services.postmortem_reassign(postmortem=pm, user=user, owner=data["owner"])
        return f"Handed to {data['owner'].get_username()}."
    if name == "deadline":
        services.postmortem_set_deadline(
            postmortem=pm, user=user, due_at=data["due_at"], reason=data["reason"]
        )
        return "Deadline moved."
    copied = services.timeline_refresh(postmortem=pm, user=user)
    return f"Copied {copied} new timeline entr{'y' if copied == 1 else 'ies'}."


class PostmortemButtonViews:
    """Mixed into ``PostmortemAdmin``: the exports and the buttons' views."""

    def _readable(self, request, object_id) -> Postmortem:
        if not perms.may(request.user, perms.VIEW_POSTMORTEM):
            raise PermissionDenied
        pm = self.get_object(request, unquote(object_id))
        if pm is None:
            raise Http404("No such postmortem.")
        return pm

    def markdown_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        pm = self._readable(request, object_id)
        response = HttpResponse(export.as_markdown(pm), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{export.filename(pm, "md")}"'
        return response

    def print_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        pm = self._readable(request, object_id)
        return HttpResponse(export.as_html(pm), content_type="text/html; charset=utf-8")

    def button_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        button = BUTTONS.get(name)
        if button is None or not perms.may(request.user, button.verb):
            raise PermissionDenied
        pm = self._readable(request, object_id)
        back = reverse("admin:postmortems_postmortem_change", args=[pm.pk])
        if button.form is None:
            if request.method != "POST":
                return HttpResponseRedirect(back)
            try:
                self.message_user(request, perform(name, pm, request.user, {}), messages.SUCCESS)
            except RuleError as error:
                self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(back)
        form = button.form(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                message = perform(name, pm, request.user, form.cleaned_data)
            except RuleError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": pm,
            "title": button.label,
            "button": button,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "postmortems/postmortem/action_form.html", context)
