"""The report pages in the admin: "Reports" in the postmortems section opens the monthly report;
beside it the quarterly report, the charts (SVG images drawn by matplotlib) and the CSV
downloads. Read-only, for whoever holds the ``view_reports`` verb (Leadership, incident
managers). The figures are ``postmortems.reports.build``'s; these views read the period and
render them.

URLs (under ``admin/postmortems/reportmailing/``): ``monthly/`` (``?month=YYYY-MM``,
``&format=csv`` for the figures, ``&format=incidents`` for the incident rows),
``quarterly/`` (``?quarter=YYYY-Qn``, same formats), ``chart/<name>.svg`` (``?month=`` or
``?quarter=``).
"""

from __future__ import annotations

from functools import partial

from csp.constants import NONE, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from ..models import ReportMailing
from ..reports import charts
from ..reports.build import build_report
from ..reports.definitions import definitions
from ..reports.export import figures_csv, incidents_csv
from ..reports.periods import Period, month_containing, parse_month, parse_quarter
from ..reports.permissions import VIEW_REPORTS, may
from ..reports.trend import monthly_trend

PAGE_KINDS = {
    "monthly": ("month", parse_month, "Monthly incident report"),
    "quarterly": ("quarter", parse_quarter, "Quarterly incident report"),
}


def _default(kind: str, now) -> Period:
    """The last month (quarter) that has ended: what leadership reads first."""
    last = month_containing(now).previous
    if kind == "monthly":
        return last
    return parse_quarter(f"{last.first.year}-Q{(last.first.month - 1) // 3 + 1}")


def _period(request, kind: str) -> tuple[Period | None, str]:
    """The period the query names (the default without one), or (None, the error)."""
    param, parse, _ = PAGE_KINDS[kind]
    if param not in request.GET:
        return _default(kind, timezone.now()), ""
    try:
        return parse(request.GET[param], field=param), ""
    except ValidationError as exc:
        return None, exc.message_dict[param][0]


def _csv(body: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def report_page(request, *, admin_site, kind: str):
    if not may(request.user, VIEW_REPORTS):
        raise PermissionDenied
    param, _, title = PAGE_KINDS[kind]
    period, error = _period(request, kind)
    context = {
        **admin_site.each_context(request),
        "opts": ReportMailing._meta,
        "title": title,
        "kind": kind,
        "param": param,
        "value": request.GET.get(param, period.key if period else ""),
        "error": error,
        "other": "quarterly" if kind == "monthly" else "monthly",
    }
    request.current_app = admin_site.name
    if period is None:
        return TemplateResponse(request, "postmortems/reports/page.html", context, status=400)
    fmt = request.GET.get("format", "")
    if fmt == "incidents":
        return _csv(incidents_csv(period), f"incidents-{period.key}.csv")
    report = build_report(period, now=timezone.now())
    if fmt == "csv":
        return _csv(figures_csv(report), f"report-{period.key}.csv")
    context.update(
        report=report,
        definitions=definitions(),
        months=monthly_trend(period.month_periods()[-1], len(period.month_periods()))
        if period.is_quarter
        else None,
        query=f"{param}={period.key}",
        previous_query=f"{param}={period.previous.key}",
        next_query=f"{param}={period.next.key}",
    )
    return TemplateResponse(request, "postmortems/reports/page.html", context)


# The SVG is a document of its own: matplotlib writes one <style> element in it (stroke
# defaults). It runs no script and loads nothing; allow only its own inline style.
@csp_replace(
    {
        "default-src": [NONE],
        "script-src": [NONE],
        "style-src": [UNSAFE_INLINE],
        "img-src": [NONE],
        "font-src": [NONE],
        "connect-src": [NONE],
    }
)
def chart_view(request, name: str):
    if not may(request.user, VIEW_REPORTS):
        raise PermissionDenied
    if name not in charts.CHARTS:
        raise Http404("No such chart.")
    kind = "quarterly" if "quarter" in request.GET else "monthly"
    period, error = _period(request, kind)
    if period is None:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    if name == "trend":
        svg = charts.trend_svg(monthly_trend(period.month_periods()[-1]))
    elif name == "severity":
        svg = charts.severity_svg(build_report(period, parts=("by_severity",)))
    else:
        svg = charts.uptime_svg(build_report(period, parts=("uptime",)))
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=300"
    return response


@admin.register(ReportMailing)
class ReportAdmin(admin.ModelAdmin):
    """ "Reports" in the admin index: the monthly report page (the changelist redirects there).
    Nothing here is added, changed or deleted by hand: mailings are the beat's record."""

    def has_module_permission(self, request) -> bool:
        return may(request.user, VIEW_REPORTS)

    def has_view_permission(self, request, obj=None) -> bool:
        return may(request.user, VIEW_REPORTS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        # "Reports" in the index opens the monthly report itself.
        return report_page(request, admin_site=self.admin_site, kind="monthly")

    def get_urls(self):
        site = self.admin_site
        view = site.admin_view
        return [
            path(
                "monthly/",
                view(partial(report_page, admin_site=site, kind="monthly")),
                name="postmortems_report_monthly",
            ),
            path(
                "quarterly/",
                view(partial(report_page, admin_site=site, kind="quarterly")),
                name="postmortems_report_quarterly",
            ),
            path(
                "chart/<slug:name>.svg",
                view(chart_view),
                name="postmortems_report_chart",
            ),
            *super().get_urls(),
        ]
