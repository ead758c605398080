"""The public subscribe form. Its checks are ``comms.services.subscribers``' own; a refusal
comes back on the field it names."""

from django import forms

from comms.models import Subscriber
from comms.services import subscribers
from comms.status import selectors
from ircore.errors import RuleError


class SubscribeForm(forms.Form):
    kind = forms.ChoiceField(choices=Subscriber.Kind.choices, widget=forms.HiddenInput)
    email = forms.CharField(required=False, max_length=subscribers.TARGET_MAX, label="E-mail")
    url = forms.CharField(
        required=False,
        max_length=subscribers.TARGET_MAX,
        label="Webhook URL",
        help_text="https:// on the default port, at a public host name.",
    )
    components = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every component.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].choices = [
            (s.pk, s.display_public_name)
            for s in selectors.public_components().only("id", "name", "public_name")
        ]

    def subscribe(self) -> bool:
        """Ask for the subscription; False with the refusal on its field."""
        data = self.cleaned_data
        target = data["email"] if data["kind"] == Subscriber.Kind.EMAIL else data["url"]
        try:
            subscribers.subscribe(
                kind=data["kind"], target=target, component_ids=data["components"]
            )
        except RuleError as exc:
            field = exc.field if exc.field in self.fields else None
            self.add_error(field, exc.message)
            return False
        return True
