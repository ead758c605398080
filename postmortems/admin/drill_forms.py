"""The forms of the drill pages: scheduling, running a game day, the assessment with its
action items, cancelling. They read input; the services (``postmortems.services.drills``)
hold the rules, and their refusals come back on the field they name."""

from django import forms
from django.contrib.admin.widgets import AdminDateWidget, AdminSplitDateTime
from django.contrib.auth import get_user_model

from ircore.admin import HumanDurationField
from ircore.errors import RuleError

from ..models import ActionItem, Drill
from ..services.drills import ACTUALS, TARGETS


def add_rule_error(form: forms.Form, error: RuleError) -> None:
    """A service's refusal on the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def active_people():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class DrillForm(forms.ModelForm):
    """Schedule (add) or change a scheduled drill. On the add form the targets come from the
    kind's plan in the policy; a scheduled drill's page shows them to change."""

    class Meta:
        model = Drill
        fields = [
            "kind",
            "title",
            "scenario",
            "scheduled_for",
            "participants",
            "service",
            "integration",
            "alert_severity",
            *TARGETS,
        ]
        field_classes = dict.fromkeys(TARGETS, HumanDurationField)
        widgets = {"scheduled_for": AdminSplitDateTime}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "participants" in self.fields:
            self.fields["participants"].queryset = active_people()
        if self.instance.pk is None:
            for name in ("title", "scenario"):
                if name in self.fields:
                    self.fields[name].required = False
                    self.fields[
                        name
                    ].help_text = (
                        "Empty: from the kind's plan in the policy (the quarter's scenario)."
                    )


class RunForm(forms.Form):
    fault_minutes_ago = forms.IntegerField(
        label="Fault began (minutes ago)",
        min_value=0,
        max_value=24 * 60,
        initial=0,
        help_text="When the failure the alert reports began: the drill's detection time.",
    )


class ConfirmForm(forms.Form):
    """A verb with nothing to fill in (start a tabletop or a chaos experiment)."""


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=Drill._meta.get_field("cancel_reason").max_length,
        widget=forms.TextInput(attrs={"size": 60}),
    )


class AssessmentForm(forms.Form):
    """003_* "Post-Drill Assessment Template". The actual times are asked only of a drill
    without an incident (a game day's come from its incident)."""

    detect_actual = HumanDurationField(label="Detection time", required=False)
    ack_actual = HumanDurationField(label="Response time (acknowledgement)", required=False)
    resolve_actual = HumanDurationField(label="Resolution time", required=False)
    communication_score = forms.TypedChoiceField(
        label="Communication quality",
        choices=[("", "—"), *((n, str(n)) for n in range(1, 6))],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="1 (poor) to 5 (excellent).",
    )
    went_well = forms.CharField(label="What went well", widget=forms.Textarea, required=False)
    to_improve = forms.CharField(
        label="Areas for improvement", widget=forms.Textarea, required=False
    )
    process_updates = forms.CharField(
        label="Process updates required",
        widget=forms.Textarea,
        required=False,
        help_text="Changes to procedures, training needs identified, tool improvements needed.",
    )

    def __init__(self, *args, drill: Drill, **kwargs):
        super().__init__(*args, **kwargs)
        if drill.incident_id is not None:
            for name in ACTUALS:
                del self.fields[name]


class ActionItemForm(forms.Form):
    """One "[ ] Improvement - Owner - Due date" line."""

    title = forms.CharField(max_length=ActionItem._meta.get_field("title").max_length)
    kind = forms.ChoiceField(label="Type", choices=ActionItem.Kind.choices)
    owner = forms.ModelChoiceField(queryset=active_people(), required=False)
    priority = forms.ChoiceField(choices=ActionItem.Priority.choices, initial="p2")
    due_on = forms.DateField(widget=AdminDateWidget)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_people()

    def has_changed(self) -> bool:
        # A row is an action item once it has a title; the selects of an empty row always
        # submit a value (its first choice), which must not make the row count.
        return bool(str(self.data.get(self.add_prefix("title"), "")).strip())


ActionItemFormSet = forms.formset_factory(ActionItemForm, extra=3, max_num=20, validate_max=True)
