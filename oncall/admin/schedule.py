"""Schedules with their layers inline, a calendar of the coming weeks per schedule, and the
"who is on call now" page every role group can read."""

from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join

from .. import services
from ..models import Layer, Schedule
from ..permissions import VIEW_ONCALL, VIEW_ONCALL_REPORT, VIEW_PHONE, may
from ..rotation import COVER, OVERRIDE, to_utc
from ..rules import rotation_warnings
from ..selectors import on_call_now, schedule_shifts
from .base import RotationAdmin, saved_as
from .forms import LayerInlineForm, ScheduleForm
from .report import report_urls

MAX_WEEKS = 8


class LayerInline(admin.StackedInline):
    """Saved through ``layer_create`` / ``layer_update`` / ``layer_delete``."""

    model = Layer
    form = LayerInlineForm
    extra = 0
    fields = [
        ("name", "level"),
        ("kind", "every"),
        ("start_date", "handoff_time"),
        ("active_from", "active_until"),
        "active_days",
        "members",
        "roster_link",
    ]
    readonly_fields = ["roster_link"]
    show_change_link = True

    @admin.display(description="Roster")
    def roster_link(self, obj: Layer) -> str:
        if not obj.pk:
            return "—"
        url = reverse("admin:oncall_layer_change", args=[obj.pk])
        return format_html('<a href="{}">Rosters, skips and overrides of {}</a>', url, obj.name)


@admin.register(Schedule)
class ScheduleAdmin(RotationAdmin):
    form = ScheduleForm
    inlines = [LayerInline]
    list_display = ["name", "team", "time_zone", "layer_count", "calendar"]
    list_select_related = ["team"]
    list_filter = ["team"]
    search_fields = ["name", "slug", "team__name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["rule_warnings"]
    fieldsets = [
        (None, {"fields": ["team", "name", "slug", "time_zone", "description"]}),
        ("Rules", {"fields": ["rule_warnings", "accept_warnings"]}),
    ]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(layer_total=Count("layers"))

    @admin.display(description="layers", ordering="layer_total")
    def layer_count(self, obj: Schedule) -> int:
        return obj.layer_total

    @admin.display(description="calendar")
    def calendar(self, obj: Schedule) -> str:
        return format_html('<a href="{}">Next weeks</a>', self._url("calendar", obj.pk))

    @admin.display(description="Rule warnings now")
    def rule_warnings(self, obj: Schedule) -> str:
        if not obj.pk:
            return "—"
        found = rotation_warnings(schedule=obj, today=timezone.now().astimezone(obj.zone).date())
        if not found:
            return "None: the rotations meet the seeds' rules."
        return format_html(
            '<ul class="oc-warnings">{}</ul>',
            format_html_join("", "<li>{}</li>", ((w.message,) for w in found)),
        )

    # --- saving through the services --------------------------------------------------------

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in ScheduleForm.Meta.fields}
        if not change:
            self.remember_warnings(request, None)
            saved_as(obj, services.schedule_create(by=request.user, **values))
            return
        self.remember_warnings(request, Schedule.objects.get(pk=obj.pk))
        changed = {f: values[f] for f in form.changed_data if f in values}
        if changed:
            services.schedule_update(schedule=obj, by=request.user, accept_warnings=True, **changed)

    def delete_model(self, request, obj):
        services.schedule_delete(schedule=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for schedule in queryset:
            services.schedule_delete(schedule=schedule, by=request.user)

    def save_formset(self, request, form, formset, change):
        schedule = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        fields = list(LayerInlineForm.Meta.fields)
        for row in formset.deleted_forms:
            if row.instance.pk:
                services.layer_delete(layer=row.instance, by=request.user, accept_warnings=True)
                formset.deleted_objects.append(row.instance)
        for row in formset.forms:
            if row in formset.deleted_forms or not row.has_changed():
                continue
            values = {f: row.cleaned_data[f] for f in fields}
            members = row.cleaned_data.get("members") or None
            if row.instance.pk is None:
                saved = services.layer_create(
                    schedule=schedule,
                    by=request.user,
                    accept_warnings=True,
                    members=members,
                    **values,
                )
                formset.new_objects.append(saved.obj)
            else:
                changed = {f: values[f] for f in row.changed_data if f in values}
                saved = services.layer_update(
                    layer=row.instance, by=request.user, accept_warnings=True, **changed
                )
                formset.changed_objects.append((saved.obj, row.changed_data))

    # --- the calendar and the now page ------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("now/", wrap(self.now_view), name=f"{prefix}_now"),
            *report_urls(self.admin_site),
            path("<path:object_id>/calendar/", wrap(self.calendar_view), name=f"{prefix}_calendar"),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}",
            args=args,
            current_app=self.admin_site.name,
        )

    def _context(self, request, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "has_view_permission": self.has_view_permission(request),
            "now_url": self._url("now"),
        }

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "now_url": self._url("now")}
        if may(request.user, VIEW_ONCALL_REPORT):
            extra["report_url"] = reverse("admin:oncall_report", current_app=self.admin_site.name)
        return super().changelist_view(request, extra)

    def now_view(self, request):
        """Who is on call now on every schedule: the final person and each layer's, until
        when, and how to reach them (phone for those who may read profiles)."""
        if not may(request.user, VIEW_ONCALL):
            raise PermissionDenied
        rows = on_call_now(schedules=Schedule.objects.order_by("team__name", "name"))
        for row in rows:
            row.calendar_url = self._url("calendar", row.schedule.pk)
        context = {
            **self._context(request, "Who is on call now"),
            "rows": rows,
            "show_phone": may(request.user, VIEW_PHONE),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/oncall/now.html", context)

    def calendar_view(self, request, object_id):
        """A grid of days (the schedule's clock) by layer, with the final on-call; overrides
        and covers for skipped people are marked."""
        schedule = self.get_object(request, object_id)
        if schedule is None or not self.has_view_permission(request, schedule):
            raise PermissionDenied
        zone = schedule.zone
        today = timezone.now().astimezone(zone).date()
        raw = request.GET.get("start", "")
        try:
            first = parse_date(raw) if len(raw) == 10 else None
        except ValueError:  # a date-shaped string that is no date, such as 2025-02-30
            first = None
        if first is None or not 2000 <= first.year < 2199:  # far dates overflow in a zone
            first = today - timedelta(days=today.weekday())
        try:
            weeks = min(max(int(request.GET.get("weeks", 4)), 1), MAX_WEEKS)
        except ValueError:
            weeks = 4
        days = [first + timedelta(days=i) for i in range(weeks * 7)]
        start = to_utc(datetime.combine(days[0], time()), zone)
        end = to_utc(datetime.combine(days[-1] + timedelta(days=1), time()), zone)
        shifts = schedule_shifts(schedule=schedule, start=start, end=end)
        columns = [(row.layer.name, row.spans) for row in shifts.layers]
        columns.append(("Final", shifts.final))
        grid = [
            {
                "day": day,
                "today": day == today,
                "cells": [_cell(spans, day, zone, shifts.people) for _, spans in columns],
            }
            for day in days
        ]
        context = {
            **self._context(request, f"{schedule.name}: calendar"),
            "schedule": schedule,
            "columns": [name for name, _ in columns],
            "grid": grid,
            "previous": f"?start={first - timedelta(weeks=weeks):%Y-%m-%d}&weeks={weeks}",
            "next": f"?start={first + timedelta(weeks=weeks):%Y-%m-%d}&weeks={weeks}",
            "change_url": self._url("change", schedule.pk),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/oncall/calendar.html", context)


def _cell(spans, day: date, zone, people) -> list[dict]:
    """The spans meeting ``day`` (local), each as "from–to who", marked by kind."""
    start = to_utc(datetime.combine(day, time()), zone)
    end = to_utc(datetime.combine(day + timedelta(days=1), time()), zone)
    entries = []
    for span in spans:
        if span.end <= start or span.start >= end:
            continue
        a, b = max(span.start, start), min(span.end, end)
        whole = a == start and b == end
        until = "24:00" if b == end else f"{b.astimezone(zone):%H:%M}"
        user = people.get(span.user_id)
        covered = people.get(span.covers_user_id) if span.covers_user_id else None
        entries.append(
            {
                "when": "all day" if whole else f"{a.astimezone(zone):%H:%M}–{until}",
                "who": (user.get_full_name() or user.get_username()) if user else "?",
                "kind": span.kind,
                "override": span.kind == OVERRIDE,
                "cover": span.kind == COVER,
                "covers": (covered.get_full_name() or covered.get_username()) if covered else "",
            }
        )
    return entries
