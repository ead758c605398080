from django.db import models
from simple_history.models import HistoricalRecords

from comms.models.audience import Audience


class TemplateQuerySet(models.QuerySet):
    def offered(self, audience: str):
        """What drafting a notice for ``audience`` offers: its active templates, by kind."""
        return self.filter(audience=audience, active=True).order_by("kind", "name")


class Template(models.Model):
    """A message template: subject and body with placeholders from the incident, rendered in a
    sandbox (``comms.rendering``). Saving one validates its placeholders and syntax
    (``clean``), so a template that cannot render never reaches a notice."""

    class Kind(models.TextChoices):
        DECLARED = "declared", "Incident declared"
        INVESTIGATING = "investigating", "Investigating update"
        STATUS_UPDATE = "status_update", "Status update"
        RESOLVED = "resolved", "Resolved"
        CUSTOMER_OUTAGE = "customer_outage", "Customer outage notice"
        CUSTOMER_RESOLUTION = "customer_resolution", "Customer resolution notice"
        STATUS_PAGE = "status_page", "Status-page update"
        EXECUTIVE_BRIEFING = "executive_briefing", "Executive briefing"
        POST_INCIDENT_EMAIL = "post_incident_email", "Post-incident customer e-mail"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    audience = models.CharField(max_length=12, choices=Audience.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    active = models.BooleanField(default=True, help_text="Offered when a notice is drafted.")
    history = HistoricalRecords()

    objects = TemplateQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        permissions = [
            ("preview_template", "Can preview a template against an incident"),
        ]
        indexes = [
            # Drafting a notice offers the active templates of its audience (``offered``).
            models.Index(fields=["audience", "active", "kind"], name="template_offered_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Imported here: the rendering package reads incidents, whose models import nothing
        # from comms, but the models package must load before any app is ready.
        from comms.rendering import validate

        validate(self.subject, self.body)
