"""A layer's own page: its rotation, its roster versions (usernames in order, from a date),
its skips, and the overrides on it (made on the override page, by responders too)."""

from django.contrib import admin
from django.utils import timezone

from .. import services
from ..models import Layer, LayerRoster, Override, Skip
from .base import RotationAdmin, readonly_inline, saved_as
from .forms import LayerForm, RosterForm

LAYER_FIELDS = [f for f in LayerForm.Meta.fields if f != "schedule"]


class RosterInline(admin.TabularInline):
    """Saved through ``roster_set`` / ``roster_delete``: a version in force is the record."""

    model = LayerRoster
    form = RosterForm
    fields = ["effective_from", "participants"]
    extra = 1
    verbose_name = "roster version"
    verbose_name_plural = "roster versions (each takes over at the first hand-off on its date)"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("entries__user")


class SkipInline(admin.TabularInline):
    """Added through ``skip_add``, removed through ``skip_remove``; not edited in place."""

    model = Skip
    fields = ["user", "day", "days", "reason", "created_by"]
    readonly_fields = ["created_by"]
    extra = 0
    verbose_name_plural = "skips (the next in the order covers; the order goes on)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "created_by")

    def has_change_permission(self, request, obj=None):
        return False  # existing rows are shown, not edited: remove and add instead


class OverrideInline(admin.TabularInline):
    model = Override
    fields = ["user", "start", "end", "reason", "created_by", "created_at"]
    readonly_fields = fields
    verbose_name_plural = "overrides (the later made wins where they overlap)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(end__gt=timezone.now())
            .select_related("user", "created_by")
        )


@admin.register(Layer)
class LayerAdmin(RotationAdmin):
    form = LayerForm
    schedule_field = "schedule"
    inlines = [RosterInline, SkipInline, readonly_inline(OverrideInline)]
    list_display = ["__str__", "level", "kind", "every", "start_date", "handoff_time"]
    list_select_related = ["schedule"]
    list_filter = ["schedule__team", "kind"]
    search_fields = ["name", "schedule__name"]
    autocomplete_fields = ["schedule"]
    fieldsets = [
        (None, {"fields": ["schedule", ("name", "level")]}),
        ("Rotation", {"fields": [("kind", "every"), ("start_date", "handoff_time"), "members"]}),
        (
            "Restriction (optional, for follow-the-sun)",
            {"fields": [("active_from", "active_until"), "active_days"]},
        ),
        ("Rules", {"fields": ["accept_warnings"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["schedule"] if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        sets = super().get_fieldsets(request, obj)
        if obj is None:
            return sets
        # An existing layer's people change through its roster versions below.
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f != "members"]})
            for name, opts in sets
        ]

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in LAYER_FIELDS if f in form.cleaned_data}
        if not change:
            schedule = form.cleaned_data["schedule"]
            self.remember_warnings(request, schedule)
            saved = services.layer_create(
                schedule=schedule,
                by=request.user,
                accept_warnings=True,
                members=form.cleaned_data.get("members") or None,
                **values,
            )
            saved_as(obj, saved.obj)
            obj.schedule = schedule
            return
        self.remember_warnings(request, obj.schedule)
        changed = {f: values[f] for f in form.changed_data if f in values}
        if changed:
            services.layer_update(layer=obj, by=request.user, accept_warnings=True, **changed)

    def delete_model(self, request, obj):
        # Deleting from its own page is a decision in itself: the rule warnings it brings
        # are accepted by confirming the deletion.
        services.layer_delete(layer=obj, by=request.user, accept_warnings=True)

    def delete_queryset(self, request, queryset):
        for layer in queryset:
            services.layer_delete(layer=layer, by=request.user, accept_warnings=True)

    def save_formset(self, request, form, formset, change):
        layer = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is LayerRoster:
            self._save_rosters(request, layer, formset)
        elif formset.model is Skip:
            self._save_skips(request, layer, formset)

    def _save_rosters(self, request, layer, formset) -> None:
        for row in formset.deleted_forms:
            if row.instance.pk:
                services.roster_delete(roster=row.instance, by=request.user, accept_warnings=True)
                formset.deleted_objects.append(row.instance)
        for row in formset.forms:
            if row in formset.deleted_forms or not row.has_changed():
                continue
            day, members = row.cleaned_data["effective_from"], row.cleaned_data["participants"]
            original = row.instance if row.instance.pk else None
            if original is not None and original.effective_from != day:
                services.roster_delete(roster=original, by=request.user, accept_warnings=True)
            saved = services.roster_set(
                layer=layer,
                effective_from=day,
                members=members,
                by=request.user,
                accept_warnings=True,
            )
            if original is None:
                formset.new_objects.append(saved.obj)
            else:
                formset.changed_objects.append((saved.obj, row.changed_data))

    def _save_skips(self, request, layer, formset) -> None:
        for row in formset.deleted_forms:
            if row.instance.pk:
                services.skip_remove(skip=row.instance, by=request.user)
                formset.deleted_objects.append(row.instance)
        for row in formset.forms:
            if row in formset.deleted_forms or row.instance.pk or not row.has_changed():
                continue
            skip = services.skip_add(
                layer=layer,
                user=row.cleaned_data["user"],
                day=row.cleaned_data["day"],
                days=row.cleaned_data["days"],
                reason=row.cleaned_data.get("reason", ""),
                by=request.user,
            )
            formset.new_objects.append(skip)
