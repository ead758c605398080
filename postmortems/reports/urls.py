"""The reports' URLs for ``config.urls`` (no app imports ``config``):

- ``api_patterns`` under ``api/v1/``: ``reports/monthly/`` and ``reports/quarterly/``;
- ``metrics_patterns`` at the root: ``metrics`` (Prometheus, bearer token).

The report pages, charts and CSV come with the admin site (``postmortems.admin.reports``).
"""

from django.urls import path

from ..metrics import metrics_view
from .api import MonthlyReportView, QuarterlyReportView

api_patterns = [
    path("reports/monthly/", MonthlyReportView.as_view(), name="report-monthly"),
    path("reports/quarterly/", QuarterlyReportView.as_view(), name="report-quarterly"),
]

metrics_patterns = [path("metrics", metrics_view, name="metrics")]
