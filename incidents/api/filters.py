"""List filters for the incidents API. Unknown keys and slugs are a 400 naming the parameter,
not an empty page that looks like "no incidents"; an empty value (``?severity=``) means "not
filtered by it", for every filter (``ircore.api.FilterSet``)."""

import django_filters as df
from django.db.models import Exists, OuterRef, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from ircore.api import FilterSet, IsoDateTimeFilter, StrictBooleanFilter
from ircore.models import IncidentType, Service, Severity, Team

from ..models import Incident, IncidentService, TimelineEntry


class StableOrderingFilter(df.OrderingFilter):
    """Ends every ordering on the primary key so pages neither repeat nor skip rows."""

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        # Ties fall back on the default order (newest first, then id).
        return qs.order_by(*ordering, *qs.model._meta.ordering, "-pk")


class IncidentFilter(FilterSet):
    """``/api/v1/incidents/`` filters. Each may be given empty, which is the same as not giving
    it: ``?status=&severity=&service=`` lists every incident."""

    # distinct=False: a status or severity can't duplicate rows, and DISTINCT makes
    # PostgreSQL sort every match before paginating.
    status = df.MultipleChoiceFilter(choices=Incident.Status.choices, distinct=False)
    severity = extend_schema_field(OpenApiTypes.STR)(
        df.ModelMultipleChoiceFilter(
            field_name="severity__key",  # the predicate compares keys, not primary keys
            to_field_name="key",
            queryset=Severity.objects.all(),
            distinct=False,
            help_text="Severity key; repeat for several.",
        )
    )
    service = df.ModelChoiceFilter(
        to_field_name="slug",
        queryset=Service.objects.all(),
        method="filter_service",
        help_text="Incidents affecting this service (slug).",
    )
    team = df.ModelChoiceFilter(
        to_field_name="slug",
        queryset=Team.objects.all(),
        method="filter_team",
        help_text="Incidents affecting any service of this team (slug).",
    )
    type = df.ModelChoiceFilter(
        field_name="incident_type", to_field_name="key", queryset=IncidentType.objects.all()
    )
    drill = StrictBooleanFilter(field_name="is_drill")
    open = StrictBooleanFilter(method="filter_open", help_text="true: not resolved or closed.")
    declared_after = IsoDateTimeFilter(field_name="declared_at", lookup_expr="gte")
    declared_before = IsoDateTimeFilter(field_name="declared_at", lookup_expr="lt")
    ordering = StableOrderingFilter(
        fields=(
            ("declared_at", "declared_at"),
            ("severity__rank", "severity"),
            ("reference", "reference"),
            ("title", "title"),
        ),
        help_text="severity sorts most severe first; prefix '-' to reverse.",
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    # Exists() rather than a join: an incident with two matching services appears once,
    # without a DISTINCT over the annotated page query.
    def filter_service(self, qs: QuerySet, name: str, value: Service) -> QuerySet:
        return qs.filter(
            Exists(IncidentService.objects.filter(incident=OuterRef("pk"), service=value))
        )

    def filter_team(self, qs: QuerySet, name: str, value: Team) -> QuerySet:
        return qs.filter(
            Exists(IncidentService.objects.filter(incident=OuterRef("pk"), service__team=value))
        )

    def filter_open(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        return qs.open() if value else qs.not_open()


class TimelineFilter(FilterSet):
    kind = df.MultipleChoiceFilter(
        choices=TimelineEntry.Kind.choices, help_text="Entry kind; repeat for several."
    )

    class Meta:
        model = TimelineEntry
        fields: list[str] = []
