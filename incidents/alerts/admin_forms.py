"""Forms of the detection admin: the integration (durations as the policy file writes them),
its routing rules, a maintenance window, and the "try a payload" box."""

import json
from datetime import timedelta
from typing import Any

from django import forms
from django.utils.text import slugify

from ircore.policy import DURATION_HINT, parse_duration
from ircore.policy.durations import format_duration

from .models import Integration, MaintenanceWindow, RoutingRule

MAX_PAYLOAD = 512 * 1024  # the endpoints' own cap (PagerDuty's)


class PolicyDurationField(forms.CharField):
    """A duration written as in the policy file: 90s, 5m, 1h30m, 2d (empty: none)."""

    def __init__(self, *, required: bool = False, **kwargs):
        kwargs.setdefault("help_text", f"e.g. 5m, 1h30m, 2d ({DURATION_HINT}).")
        super().__init__(required=required, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, timedelta):
            return format_duration(value)
        return value

    def to_python(self, value: Any) -> timedelta | None:
        text = super().to_python(value)
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class LabelsField(forms.CharField):
    """A list of label names, written comma-separated."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        names = [part.strip() for part in text.split(",") if part.strip()]
        return list(dict.fromkeys(names))


class IntegrationForm(forms.ModelForm):
    dedup_labels = LabelsField(
        required=False,
        label="Deduplicate on labels",
        help_text="Label names, comma-separated (e.g. alertname, instance); empty: the "
        "monitor's own fingerprint or dedup key.",
    )
    group_window = PolicyDurationField(
        required=True,
        help_text="Alerts of a service within this time of its incident's last alert join it "
        "(e.g. 5m).",
    )
    heartbeat_every = PolicyDurationField(
        label="Heartbeat every", help_text="Expect a ping this often (e.g. 30m); empty: none."
    )
    heartbeat_grace = PolicyDurationField(
        required=True, help_text="How late a ping may be before it alerts (e.g. 5m)."
    )

    class Meta:
        model = Integration
        fields = [
            "name",
            "kind",
            "enabled",
            "service",
            "severity",
            "dedup_labels",
            "group_window",
            "auto_resolve",
            "heartbeat_every",
            "heartbeat_grace",
        ]

    def clean_name(self) -> str:
        name = (self.cleaned_data.get("name") or "").strip()
        if self.instance.pk is None:
            slug = slugify(name)[:100]
            if not slug:
                raise forms.ValidationError("Give a name with letters or digits.")
            if Integration.objects.filter(slug=slug).exists():
                raise forms.ValidationError(
                    f"Another integration's slug is '{slug}'; choose a different name."
                )
        return name

    def clean_group_window(self) -> timedelta:
        value = self.cleaned_data["group_window"]
        if value is None:
            raise forms.ValidationError("Give a grouping window (e.g. 5m).")
        return value

    def clean_heartbeat_every(self) -> timedelta | None:
        value = self.cleaned_data.get("heartbeat_every")
        if value is not None and value <= timedelta(0):
            raise forms.ValidationError("Give a positive interval, or leave it empty.")
        return value

    def clean_heartbeat_grace(self) -> timedelta:
        value = self.cleaned_data.get("heartbeat_grace")
        if value is None:
            raise forms.ValidationError("Give a grace (e.g. 5m).")
        return value


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["position", "label", "value", "service", "severity"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("DELETE"):
            return cleaned
        if not cleaned.get("service") and not cleaned.get("severity"):
            raise forms.ValidationError(
                "A rule routes to a service, a severity or both: choose at least one."
            )
        return cleaned


class MaintenanceWindowForm(forms.ModelForm):
    """Saved by ``maintenance_window_create``; the order of start and end is checked here
    too, so the refusal lands on the end field instead of a page-wide constraint error."""

    class Meta:
        model = MaintenanceWindow
        fields = ["service", "start", "end", "reason"]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", "The end must be after the start.")
        return cleaned


class TryPayloadForm(forms.Form):
    payload = forms.CharField(
        label="Payload",
        widget=forms.Textarea(attrs={"rows": 16, "cols": 90, "spellcheck": "false"}),
        help_text="Paste a JSON body as the monitor would post it. Nothing is stored.",
        max_length=MAX_PAYLOAD,
    )

    def clean_payload(self) -> Any:
        text = self.cleaned_data["payload"]
        try:
            return json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}.") from None
        except RecursionError:  # json.loads gives up on deep nesting this way
            raise forms.ValidationError("Nested too deeply to read.") from None
