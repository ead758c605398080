"""The on-call load and pay report in the admin: a range form, the figures per person and per
team, and the same figures as CSV (``?format=csv``). The figures are ``oncall.report``'s;
this page only reads the range and renders them.

``report_urls(admin_site)`` gives the page's URL for the on-call admin's ``get_urls``
(``ScheduleAdmin``: ``admin/oncall/schedule/report/``, named ``oncall_report``)."""

from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from ..models import Schedule
from ..permissions import VIEW_ONCALL_REPORT, may
from ..report import MAX_RANGE, oncall_report, report_csv

# The days a range may name: the range ends the day after ``end``, and the zone maths needs a
# margin either side, so the calendar's first and last days are out.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


class RangeForm(forms.Form):
    """Whole days, in UTC: from the start of ``start`` to the end of ``end``."""

    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        for name in ("start", "end"):
            day = data.get(name)
            if day and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, f"Choose a day from {FIRST_DAY} to {LAST_DAY}.")
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The range ends before it starts.")
            elif end - start >= MAX_RANGE:
                self.add_error("end", f"At most {MAX_RANGE.days} days at a time.")
        return data

    def instants(self) -> tuple[datetime, datetime]:
        start = datetime.combine(self.cleaned_data["start"], time(), tzinfo=UTC)
        end = datetime.combine(self.cleaned_data["end"], time(), tzinfo=UTC)
        return start, end + timedelta(days=1)


def default_range() -> dict:
    """The last four whole weeks to yesterday (UTC)."""
    today = timezone.now().astimezone(UTC).date()
    return {"start": today - timedelta(days=28), "end": today - timedelta(days=1)}


def report_view(request, *, admin_site):
    if not may(request.user, VIEW_ONCALL_REPORT):
        raise PermissionDenied
    data = request.GET if "start" in request.GET or "end" in request.GET else None
    form = RangeForm(data) if data is not None else RangeForm(default_range())
    report = None
    if form.is_valid():
        start, end = form.instants()
        report = oncall_report(start=start, end=end)
        if request.GET.get("format") == "csv":
            response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
            name = f"oncall-{start:%Y-%m-%d}-{end - timedelta(days=1):%Y-%m-%d}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    opts = Schedule._meta
    context = {
        **admin_site.each_context(request),
        "opts": opts,
        "title": "On-call load and pay",
        "has_view_permission": request.user.has_perm("oncall.view_schedule"),
        "form": form,
        "report": report,
        "csv_query": _csv_query(form) if report else "",
    }
    request.current_app = admin_site.name
    return TemplateResponse(request, "admin/oncall/report.html", context)


def _csv_query(form: RangeForm) -> str:
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    return f"?start={start:%Y-%m-%d}&end={end:%Y-%m-%d}&format=csv"


def report_urls(admin_site) -> list:
    view = admin_site.admin_view(partial(report_view, admin_site=admin_site))
    return [path("report/", view, name="oncall_report")]


def report_url(admin_site_name: str = "admin") -> str:
    return reverse(f"{admin_site_name}:oncall_report")
