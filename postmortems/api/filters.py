"""List filters for the postmortems API (unknown values are a 400 naming the parameter;
an empty one means "not filtered by it", as everywhere: ``ircore.api.FilterSet``)."""

import django_filters as df
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.models import Incident
from ircore.api import FilterSet, StrictBooleanFilter
from ircore.models import Severity, Team

from ..models import ActionItem, Postmortem
from ..services.actions import today_utc


class PostmortemFilter(FilterSet):
    status = df.MultipleChoiceFilter(choices=Postmortem.Status.choices, distinct=False)
    owner = df.ModelChoiceFilter(
        to_field_name="username", queryset=get_user_model().objects.all(), help_text="Username."
    )
    incident = df.ModelChoiceFilter(
        to_field_name="reference", queryset=Incident.objects.all(), help_text="Reference."
    )
    severity = df.ModelChoiceFilter(
        field_name="incident__severity", to_field_name="key", queryset=Severity.objects.all()
    )
    overdue = StrictBooleanFilter(method="filter_overdue", help_text="true: past due, unpublished.")

    class Meta:
        model = Postmortem
        fields: list[str] = []

    def filter_overdue(self, qs, name, value):
        if value is None:
            return qs
        overdue = qs.overdue(timezone.now())
        return overdue if value else qs.exclude(pk__in=overdue.values("pk"))


class ActionItemFilter(FilterSet):
    status = df.MultipleChoiceFilter(choices=ActionItem.Status.choices, distinct=False)
    priority = df.MultipleChoiceFilter(choices=ActionItem.Priority.choices, distinct=False)
    type = df.MultipleChoiceFilter(
        field_name="kind", choices=ActionItem.Kind.choices, distinct=False
    )
    owner = df.ModelChoiceFilter(
        to_field_name="username", queryset=get_user_model().objects.all(), help_text="Username."
    )
    team = df.ModelChoiceFilter(
        to_field_name="slug", queryset=Team.objects.all(), help_text="Slug."
    )
    postmortem = df.NumberFilter(field_name="postmortem_id")
    overdue = StrictBooleanFilter(method="filter_overdue", help_text="true: unfinished, past due.")

    class Meta:
        model = ActionItem
        fields: list[str] = []

    def filter_overdue(self, qs, name, value):
        if value is None:
            return qs
        today = today_utc(timezone.now())
        return qs.overdue(today) if value else qs.exclude(pk__in=qs.overdue(today).values("pk"))
