from django.db import models


class ReportMailing(models.Model):
    """The monthly report's e-mail to Leadership, one row per month: the unique month makes
    it once-only however many beats tick on the 1st (``postmortems.reports.mail``).

    The model also carries the report's permission (``view_incident_report``): the report
    pages, the API, the CSV and the charts all read it through the ``view_reports`` verb."""

    # The first day of the month reported on.
    month = models.DateField(unique=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-month"]
        # "Reports" in the admin index opens the report pages (postmortems.admin.reports).
        verbose_name = "report"
        verbose_name_plural = "reports"
        permissions = [("view_incident_report", "Can read the monthly and quarterly reports")]

    def __str__(self) -> str:
        return f"Report mailing for {self.month:%B %Y}"
