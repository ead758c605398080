from django.db import models

from comms.models.audience import Audience


class UpdateDue(models.Model):
    """One update an incident owed its audience by ``due_at``, and what became of it: the
    record the reports read to say how well the cadence was kept."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        ON_TIME = "on_time", "On time"
        LATE = "late", "Late"
        MISSED = "missed", "Missed"

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="updates_due"
    )
    # Internal or customers (executive briefings have no cadence).
    audience = models.CharField(max_length=12, choices=Audience.choices)
    due_at = models.DateTimeField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    notice = models.ForeignKey(
        "comms.Notice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "audience", "due_at"], name="update_due_once"
            ),
        ]
        indexes = [models.Index(fields=["outcome", "due_at"], name="update_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} update due {self.due_at:%Y-%m-%d %H:%M}"
