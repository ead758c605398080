"""Forms of the on-call admin. They check the shape of what is typed (usernames, weekdays);
the services hold the rules."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from ..models import FeedToken, Layer, LayerRoster, Override, Schedule, ShiftSwapRequest

User = get_user_model()

WEEKDAYS = [
    ("1", "Mon"),
    ("2", "Tue"),
    ("3", "Wed"),
    ("4", "Thu"),
    ("5", "Fri"),
    ("6", "Sat"),
    ("7", "Sun"),
]
ACCEPT_HELP = (
    "The seeds' rules (two people on call at once; nobody more than a week a month) are "
    "checked on saving; tick this to save a rotation that breaks them."
)


def accept_field() -> forms.BooleanField:
    return forms.BooleanField(required=False, label="Accept rule warnings", help_text=ACCEPT_HELP)


class UsernamesField(forms.CharField):
    """Participants in order, by username (comma- or line-separated): order matters, which a
    multiple select would lose."""

    widget = forms.Textarea(attrs={"rows": 2, "cols": 40})

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Usernames in rotation order, separated by commas.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(u.get_username() for u in value)
        return value

    @staticmethod
    def _names(value) -> list[str]:
        if isinstance(value, list | tuple):
            return [u.get_username() for u in value]
        return [n.strip() for n in (value or "").replace("\n", ",").split(",") if n.strip()]

    def has_changed(self, initial, data) -> bool:
        return self._names(initial) != self._names(data)

    def to_python(self, value):
        names = self._names(value)
        if any("\x00" in n for n in names):
            raise ValidationError("Null characters are not allowed.")
        found = {u.get_username(): u for u in User.objects.filter(username__in=names)}
        missing = [n for n in names if n not in found]
        if missing:
            raise ValidationError(f"No user called {', '.join(missing)}.")
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ValidationError(f"Listed twice: {', '.join(doubles)}.")
        return [found[n] for n in names]


class WeekdaysField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", WEEKDAYS)
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Active days")
        kwargs.setdefault("help_text", "None ticked: every day.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return list(value) if isinstance(value, str) else value

    def clean(self, value):
        return "".join(sorted(super().clean(value)))


class ScheduleForm(forms.ModelForm):
    accept_warnings = accept_field()

    class Meta:
        model = Schedule
        fields = ["team", "name", "slug", "time_zone", "description"]


class LayerForm(forms.ModelForm):
    """A layer; on a new one, ``members`` makes its first roster (from its start date)."""

    active_days = WeekdaysField()
    members = UsernamesField(
        required=False,
        help_text="New layer: usernames in rotation order. To change who rotates later, add a "
        "roster version from a date on the layer's page.",
    )
    accept_warnings = accept_field()

    class Meta:
        model = Layer
        fields = [
            "schedule",
            "name",
            "level",
            "kind",
            "every",
            "start_date",
            "handoff_time",
            "active_from",
            "active_until",
            "active_days",
        ]


class LayerInlineForm(LayerForm):
    accept_warnings = None  # the schedule's form has the one tick for the whole save

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # An existing layer's people change by roster versions, on the layer's page.
            self.fields["members"].disabled = True
            self.fields["members"].help_text = "Change from a date on the layer's page."

    class Meta(LayerForm.Meta):
        fields = [f for f in LayerForm.Meta.fields if f != "schedule"]


class RosterForm(forms.ModelForm):
    participants = UsernamesField(required=False)

    class Meta:
        model = LayerRoster
        fields = ["effective_from"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["participants"] = ", ".join(
                e.user.get_username() for e in self.instance.entries.all()
            )


class OverrideForm(forms.ModelForm):
    class Meta:
        model = Override
        fields = ["layer", "user", "start", "end", "reason"]


class SwapOfferForm(forms.ModelForm):
    class Meta:
        model = ShiftSwapRequest
        fields = ["layer", "start", "end", "note"]


class SwapAssignForm(forms.Form):
    to = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"), label="Assign to"
    )


class FeedTokenForm(forms.ModelForm):
    class Meta:
        model = FeedToken
        fields = ["schedule", "user", "label"]
        labels = {"user": "Person"}
        help_texts = {"schedule": "A schedule's feed, or", "user": "a person's feed."}

    def clean(self):
        data = super().clean()
        if bool(data.get("schedule")) == bool(data.get("user")):
            raise ValidationError("Choose a schedule or a person, not both.")
        return data
