"""Who may read the reports (see ``ircore.verbs``): Leadership and incident managers, through
the ``view_incident_report`` permission (``postmortems.ReportMailing``). The pages, the API,
the CSV downloads and the charts all ask this one verb."""

from ircore.verbs import Verb, may, register

VIEW_REPORTS = "view_reports"

register(
    Verb(
        VIEW_REPORTS,
        ("postmortems.view_incident_report",),
        "Read the monthly and quarterly incident reports, their charts and CSV.",
    ),
)

__all__ = ["VIEW_REPORTS", "may"]
