"""List filters for /api/v1/notices/. An unknown incident, audience or status is a 400 naming
the parameter; an empty value means "not filtered by it" (``ircore.api.FilterSet``)."""

import django_filters as df

from incidents.models import Incident
from ircore.api import FilterSet

from ..models import Audience, Notice


class NoticeFilter(FilterSet):
    incident = df.ModelChoiceFilter(
        to_field_name="reference",
        queryset=Incident.objects.all(),
        help_text="Notices about this incident (its reference).",
    )
    # distinct=False: neither can duplicate rows.
    audience = df.MultipleChoiceFilter(choices=Audience.choices, distinct=False)
    status = df.MultipleChoiceFilter(choices=Notice.Status.choices, distinct=False)

    class Meta:
        model = Notice
        fields = ["incident", "audience", "status"]
