"""The cost of incidents in the admin: each incident's assessment as a page of its own (linked
to the incident), its template lines inline, where a person adjusts a figure and says why
(the pre-filled figure stays beside it, history keeps both); the labour rates (the policy's
``cost`` section) and each service's cost figures. Every change goes through
``postmortems.services.cost``; Leadership reads and changes nothing."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from incidents.models import Incident, RoleAssignment
from ircore.admin import DURATION_OVERRIDES, duration_column
from ircore.errors import RuleError
from ircore.pagination import CappedCountPaginator

from .. import permissions_drills as verbs
from ..models import CostAssessment, CostLine, CostRates, ServiceCost
from ..services import cost
from .drill_forms import add_rule_error


class CostLineInline(admin.TabularInline):
    model = CostLine
    fields = ("category", "key", "prefilled", "basis", "amount", "note")
    readonly_fields = ("category", "key", "prefilled", "basis")
    ordering = ("position",)
    extra = 0
    can_delete = False
    verbose_name = "line"

    def has_add_permission(self, request, obj=None):
        return False  # the template's lines are made with the assessment


class AssessmentAddForm(forms.ModelForm):
    class Meta:
        model = CostAssessment
        fields = ("incident",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "incident" in self.fields:
            # Drills never count: their incidents have no assessment.
            self.fields["incident"].queryset = Incident.objects.real()


@admin.register(CostAssessment)
class CostAssessmentAdmin(SimpleHistoryAdmin):
    list_display = ("incident", "total", "prefilled_at")
    list_select_related = ("incident",)
    search_fields = ("incident__reference", "incident__title")
    raw_id_fields = ("incident",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ("-incident__declared_at", "-id")
    inlines = (CostLineInline,)
    change_form_template = "postmortems/drills/cost_change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AssessmentAddForm
        form = super().get_form(request, obj, change, **kwargs)
        refused = getattr(request, "_cost_refusal", None)
        if refused is None:
            return form

        class Refused(form):
            def clean(self):
                data = super().clean()
                add_rule_error(self, refused)
                return data

        return Refused

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("incident",)
        return ("incident_link", "total", "prefilled_at", "notes")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if not verbs.may(request.user, verbs.ASSESS_COST):
            return ("incident_link", "total", "prefilled_at", "notes")
        return ("incident_link", "total", "prefilled_at")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def has_add_permission(self, request):
        return verbs.may(request.user, verbs.ASSESS_COST)

    def has_delete_permission(self, request, obj=None):
        return False  # the figures the reports sum are a record

    @admin.display(description="incident")
    def incident_link(self, obj: CostAssessment):
        incident = obj.incident
        url = reverse("admin:incidents_incident_change", args=[incident.pk])
        return format_html('<a href="{}">{}</a>', url, incident)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleError as error:  # rolled back: show the same POST with the refusal
            request._cost_refusal = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            made = cost.cost_prefill(incident=form.cleaned_data["incident"], user=request.user)
            obj.pk, obj._state.adding, obj._state.db = made.pk, False, made._state.db
            return
        if "notes" in form.changed_data:
            cost.cost_set_notes(assessment=obj, notes=form.cleaned_data["notes"], user=request.user)

    def save_formset(self, request, form, formset, change):
        """Each changed line through ``cost_adjust`` (which recomputes the total); what the
        admin's change message lists is set here, as ``formset.save()`` would."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if not verbs.may(request.user, verbs.ADJUST_COST):
            return
        for line_form in formset.forms:
            if line_form.has_changed():
                data = line_form.cleaned_data
                cost.cost_adjust(
                    line=line_form.instance,
                    amount=data.get("amount"),
                    note=data.get("note", ""),
                    user=request.user,
                )
                formset.changed_objects.append((line_form.instance, line_form.changed_data))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and verbs.may(request.user, verbs.ASSESS_COST):
            context["prefill_url"] = reverse(
                "admin:postmortems_costassessment_prefill", args=[obj.pk]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        prefill = path(
            "<path:object_id>/prefill/",
            self.admin_site.admin_view(self.prefill_view),
            name="postmortems_costassessment_prefill",
        )
        return [prefill, *super().get_urls()]

    def prefill_view(self, request, object_id):
        """POST: work the pre-filled figures out again from the incident as it is now."""
        if not verbs.may(request.user, verbs.ASSESS_COST):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        assessment = self.get_object(request, unquote(object_id))
        if assessment is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        cost.cost_prefill(incident=assessment.incident, user=request.user)
        assessment.refresh_from_db()
        self.message_user(
            request,
            f"Pre-filled figures worked out again; total {assessment.total:,.2f}.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse("admin:postmortems_costassessment_change", args=[assessment.pk])
        )


@admin.register(ServiceCost)
class ServiceCostAdmin(SimpleHistoryAdmin):
    list_display = ("service", "revenue_per_minute", "sla_credit", "grace")
    list_select_related = ("service",)
    search_fields = ("service__name", "service__slug")
    formfield_overrides = DURATION_OVERRIDES

    grace = duration_column("sla_credit_after", "credit owed after")


class _CostRatesForm(forms.ModelForm):
    """The labour rates, with a weight field per incident role (stored as ``role_weights``)."""

    class Meta:
        model = CostRates
        fields = ("name", "hourly_cost", "paged_weight")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for role in RoleAssignment.Role.values:
                self.initial[f"weight_{role}"] = self.instance.weight_of(role)

    def save(self, commit=True):
        self.instance.role_weights = {
            role: str(self.cleaned_data[f"weight_{role}"]) for role in RoleAssignment.Role.values
        }
        return super().save(commit)


WEIGHT_FIELDS = tuple(f"weight_{role}" for role in RoleAssignment.Role.values)
# Declared fields, one per role, so the admin's form factory knows them.
CostRatesForm = type(
    "CostRatesForm",
    (_CostRatesForm,),
    {
        f"weight_{role}": forms.DecimalField(
            label=f"Weight: {label}",
            min_value=Decimal(0),
            max_value=Decimal("999.99"),
            decimal_places=2,
            initial=Decimal(1),
        )
        for role, label in RoleAssignment.Role.choices
    },
)


@admin.register(CostRates)
class CostRatesAdmin(SimpleHistoryAdmin):
    form = CostRatesForm
    list_display = ("name", "hourly_cost", "paged_weight")

    def get_fields(self, request, obj=None):
        return ("name", "hourly_cost", "paged_weight", *WEIGHT_FIELDS)
