from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from comms.models.audience import Audience


class NoticeQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Notice.Status.PUBLISHED)

    def public(self):
        """What the status page may show: published notices for customers."""
        return self.published().filter(audience=Audience.CUSTOMERS)


class Notice(models.Model):
    """A message for one audience about one incident, reviewed before it goes out."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        PUBLISHED = "published", "Published"

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="notices"
    )
    audience = models.CharField(max_length=12, choices=Audience.choices)
    template = models.ForeignKey(
        "comms.Template", null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    subject = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    # The public components a customer notice is about: its subscribers are theirs.
    components = models.ManyToManyField("ircore.Service", blank=True, related_name="notices")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    legal_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    legal_approved_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "audience", "published_at"], name="notice_public_idx"),
        ]

    def __str__(self) -> str:
        return self.subject
