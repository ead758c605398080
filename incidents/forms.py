"""Forms behind the incident admin: the declare form, the incident page's edit form, and the
small forms of each action (status, severity, role, checklist, note, security checkpoint).

They only collect and check input; every change is made by ``incidents.services``.
"""

import re
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.html import format_html

from ircore.errors import RuleError
from ircore.models import IncidentType, Service, Severity

from . import services
from .models import TIMESTAMP_ORDER, ChecklistItem, Incident, RoleAssignment, TimelineEntry
from .templatetags.ir_time import zone_label

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
FALLBACK_COLOUR = "#757575"


def safe_colour(colour: str) -> str:
    """The severity's colour if it is a plain hex colour; anything else could smuggle CSS."""
    return colour if colour and HEX_COLOUR.match(colour) else FALLBACK_COLOUR


def text_colour_on(colour: str) -> str:
    """Black or white, whichever reads better on the badge colour (WCAG relative luminance)."""
    red, green, blue = (int(safe_colour(colour)[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    # Above ~0.179 black text has the higher contrast ratio, below it white does.
    return "#000000" if luminance > 0.179 else "#ffffff"


def severity_badge(severity: Severity | None) -> str:
    """The severity's key in its colour. The colour comes from ``severity_stylesheet`` (a
    class per level), not a style="" attribute, which a Content-Security-Policy without
    'unsafe-inline' blocks."""
    if severity is None:
        return "—"
    return format_html(
        '<span class="ir-badge ir-sev-{}" title="{}">{}</span>',
        severity.pk,
        severity.name,
        severity.key,
    )


def severity_stylesheet(severities: Any) -> str:
    """One rule per severity level, served as a stylesheet of its own (see
    ``IncidentAdmin.severity_css_view``): the badge colours come from the policy."""
    rules = []
    for severity in severities:
        colour = safe_colour(severity.colour)
        rules.append(
            f".ir-sev-{int(severity.pk)} {{ background-color: {colour}; "
            f"color: {text_colour_on(colour)}; }}"
        )
    return "\n".join(rules) + "\n"


class SeverityChoiceField(forms.ModelChoiceField):
    """Shows each level as its coloured key, name and definition, so the choice is informed."""

    def label_from_instance(self, obj: Severity) -> str:
        if obj.definition:
            return format_html(
                '{} <strong>{}</strong> <span class="ir-hint">— {}</span>',
                severity_badge(obj),
                obj.name,
                obj.definition.splitlines()[0][:160],
            )
        return format_html("{} {}", severity_badge(obj), obj.name)


def ic_certified_ids(on=None) -> set[int]:
    """Users whose IC certification is valid on ``on`` (one query)."""
    from ircore.models import Profile

    on = on or Profile.today()
    return set(Profile.objects.filter(Profile.certified_q(on)).values_list("user_id", flat=True))


class PersonChoiceField(forms.ModelChoiceField):
    """Active people, each marked when their IC certification is valid today."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        user_model = get_user_model()
        kwargs.setdefault(
            "queryset",
            user_model.objects.filter(is_active=True).order_by(user_model.USERNAME_FIELD),
        )
        super().__init__(*args, **kwargs)
        self._certified: set[int] | None = None

    def label_from_instance(self, obj: Any) -> str:
        if self._certified is None:
            self._certified = ic_certified_ids()
        name = obj.get_full_name()
        label = f"{name} ({obj.get_username()})" if name else obj.get_username()
        return label + (" · IC certified" if obj.pk in self._certified else "")


# --- declare ---------------------------------------------------------------------------------


class DeclareForm(forms.Form):
    """Only what is needed to start: the rest is filled in on the incident page."""

    title = forms.CharField(max_length=200, help_text="What is broken, as users see it.")
    severity = SeverityChoiceField(
        queryset=Severity.objects.order_by("rank"),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.select_related("team").order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        label="Affected services",
        error_messages={"required": "Choose at least one affected service."},
    )
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    incident_type = forms.ModelChoiceField(
        queryset=IncidentType.objects.order_by("name"),
        required=False,
        label="Type",
        empty_label="(not known yet)",
    )
    is_drill = forms.BooleanField(
        required=False, label="This is a drill", help_text="Kept out of real metrics."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An empty catalog must not make declaring impossible.
        if not Service.objects.exists():
            self.fields["services"].required = False
            self.fields["services"].help_text = "No services in the catalog yet."


# --- the incident page's edit form -----------------------------------------------------------

# What the page may change through ``incident_update``; everything else has its own action.
UPDATABLE_FIELDS = (*services.EDITABLE_FIELDS, *TIMESTAMP_ORDER, *services.IMPACT_FIELDS)


class IncidentAdminForm(forms.ModelForm):
    """Checks, before anything is saved, the same rules ``incident_update`` enforces, so a
    refusal is shown on the field that broke it; ``IncidentAdmin.save_model`` then calls the
    service with the changed fields."""

    class Meta:
        model = Incident
        fields = list(UPDATABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "Changed" means changed from what this person saw, not from the database now: a
        # page opened before someone acknowledged or recorded impact must not, when saved
        # for a title edit, put the old values back.
        for field in self.fields.values():
            field.show_hidden_initial = True
        # The inputs read and show times in the viewer's zone: say which.
        zone = zone_label()
        for name in TIMESTAMP_ORDER:
            if name in self.fields:
                self.fields[name].help_text = f"In {zone}."

    def clean_financial_impact(self):
        amount = self.cleaned_data.get("financial_impact")
        if amount is not None and amount < 0:
            raise forms.ValidationError("The amount cannot be negative.")
        return amount

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk is None or self.errors:
            return cleaned
        try:
            # The service's own rules, on a copy, so a refusal lands on the edited field.
            services.check_incident_update(incident=self.instance, data=self.service_data())
        except RuleError as error:
            add_rule_error(self, error)
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """The changed fields, as ``incident_update`` takes them. Times go in UTC, the zone
        the stored times are in, so a refusal that quotes both reads them in one zone."""
        return {
            f: _in_utc(self.cleaned_data[f]) for f in self.changed_data if f in UPDATABLE_FIELDS
        }


def _in_utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


class ChecklistItemInlineForm(forms.ModelForm):
    """A checklist row whose only input is "done"; ticking goes through ``checklist_tick``.

    ``show_hidden_initial``: "changed" means changed from what this person saw, so a stale
    page cannot re-tick an item someone unticked meanwhile just by being saved.
    """

    done = forms.BooleanField(required=False, show_hidden_initial=True)

    class Meta:
        model = ChecklistItem
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["done"] = bool(self.instance.pk and self.instance.done_at)


# --- action forms ----------------------------------------------------------------------------


def add_rule_error(form: forms.Form, error: RuleError) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


class ActionForm(forms.Form):
    """An action's input; ``incident`` is None when the action runs on many incidents."""

    def __init__(self, *args: Any, incident: Incident | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.incident = incident


class AcknowledgeForm(ActionForm):
    """Nothing to ask: the button is the whole input."""


class StatusForm(ActionForm):
    status = forms.ChoiceField(label="Move to")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Written on the timeline with the move.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        incident = self.incident
        if incident is None:  # many incidents: every state; the service refuses what it must
            choices = Incident.Status.choices
        else:
            choices = [(s, Incident.Status(s).label) for s in services.allowed_moves(incident)]
            now = incident.get_status_display().lower()
            self.fields["status"].help_text = f"Now {now}; these are the allowed moves."
        self.fields["status"].choices = choices


class SeverityForm(ActionForm):
    severity = SeverityChoiceField(
        queryset=Severity.objects.order_by("rank"), widget=forms.RadioSelect, empty_label=None
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Why the severity changes."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        incident = self.incident
        if incident is not None:
            self.fields["severity"].queryset = Severity.objects.exclude(
                pk=incident.severity_id
            ).order_by("rank")
            help_text = f"Now {incident.severity}. Raising it adds that level's checklist items."
            self.fields["severity"].help_text = help_text


class PastTimeField(forms.DateTimeField):
    """An optional "when it happened", for recording an incident after the fact; read in
    the viewer's zone (named in the help text) and checked by the service against the
    incident's chronology."""

    widget = forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


def _past_time_help(what: str) -> str:
    return f"Leave empty for now. To record {what} after the fact: when, in {zone_label()}."


class RoleForm(ActionForm):
    role = forms.ChoiceField(choices=RoleAssignment.Role.choices)
    user = PersonChoiceField(label="Person")
    at = PastTimeField(label="Since")
    override_reason = forms.CharField(
        max_length=300,
        required=False,
        label="Certification override",
        help_text="Only to make an uncertified person Incident Commander: say why.",
    )

    def __init__(self, *args: Any, can_override: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only incident managers may override the certification rule; others never see it.
        if not can_override:
            del self.fields["override_reason"]
        self.fields["at"].help_text = _past_time_help("an assignment")


def role_time(data: dict[str, Any]) -> dict[str, Any]:
    """``occurred_at=`` for ``role_assign`` only when a time was given: now is the service's
    default."""
    return {"occurred_at": data["at"]} if data.get("at") else {}


class ChecklistTickForm(ActionForm):
    item = forms.ModelChoiceField(queryset=ChecklistItem.objects.none(), empty_label=None)
    done = forms.TypedChoiceField(
        choices=[("1", "Done"), ("0", "Not done")],
        coerce=lambda value: value == "1",
        initial="1",
        widget=forms.RadioSelect,
        label="Mark as",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = ChecklistItem.objects.filter(
            incident=self.incident
        ).order_by("position", "id")
        self.fields["item"].label_from_instance = str


class NoteForm(ActionForm):
    kind = forms.ChoiceField(
        choices=[(k, TimelineEntry.Kind(k).label) for k in TimelineEntry.MANUAL_KINDS],
        initial=TimelineEntry.Kind.NOTE,
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown: **bold**, [links](https://…).",
    )
    occurred_at = PastTimeField(label="When")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].help_text = _past_time_help("a note")


CHECKPOINT_LABELS = {
    "evidence_preserved": "Evidence preserved",
    "credentials_rotated": "Credentials rotated",
    "regulator_notified": "Regulator notified",
}


class CheckpointForm(ActionForm):
    checkpoint = forms.ChoiceField(widget=forms.RadioSelect)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        incident = self.incident
        choices = list(CHECKPOINT_LABELS.items())
        if incident is not None:
            choices = [
                (key, label)
                for key, label in choices
                if getattr(incident, services.SECURITY_CHECKPOINTS[key]) is None
            ]
        self.fields["checkpoint"].choices = choices
