from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q

from comms.models.audience import Audience

# The audiences a severity sets a cadence for (executive briefings have none).
CADENCE_AUDIENCES = (Audience.INTERNAL, Audience.CUSTOMERS)


class UpdateDueQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(outcome=UpdateDue.Outcome.PENDING)

    def overdue(self, now: datetime):
        """Pending and past their due time: an update is owed now."""
        return self.pending().filter(due_at__lte=now)

    def counted(self, now: datetime):
        """What the cadence figures count (``comms.selectors.cadence_kept``): every row that
        fell due by ``now``, and the rows an update settled before their due time (an early
        update counts at once). A pending row not yet due is no obligation yet."""
        return self.filter(Q(due_at__lte=now) | ~Q(outcome=UpdateDue.Outcome.PENDING))


class UpdateDue(models.Model):
    """One update an incident owed its audience by ``due_at``, and what became of it: the
    record the reports read to say how well the cadence was kept.

    The rules (when an update counts, on time, late, missed, severity changes, resolution)
    are written once, in ``comms.services.cadence``; ``outcome_if_sent`` is the one test of
    on time against late.
    """

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
    # The cadence the row was planned under: it stays late until a whole period has passed
    # after due_at, then it is missed (and the next one is due), whatever the severity says
    # later.
    period = models.DurationField(help_text="The cadence this update was due under.")
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    notice = models.ForeignKey(
        "comms.Notice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)

    objects = UpdateDueQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "due_at"]
        verbose_name = "update due"
        verbose_name_plural = "updates due"
        constraints = [
            # At most one update owed at a time per incident and audience: two ticks (or a
            # tick and a publish) planning the same next update cannot both win.
            models.UniqueConstraint(
                fields=["incident", "audience"],
                condition=Q(outcome="pending"),
                name="update_due_one_pending",
            ),
        ]
        indexes = [
            # The reconciler's due rows (pending by due_at), the health check's oldest due.
            models.Index(fields=["outcome", "due_at"], name="update_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} update due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def closes_at(self) -> datetime:
        """When a pending row becomes missed: a whole period after it was due."""
        return self.due_at + self.period

    def outcome_if_sent(self, at: datetime) -> str:
        """On time up to ``due_at``, late until a whole period has passed, missed after."""
        if at <= self.due_at:
            return self.Outcome.ON_TIME
        if at < self.closes_at:
            return self.Outcome.LATE
        return self.Outcome.MISSED

    def overdue_by(self, now: datetime) -> timedelta:
        """How long past due (zero when not yet due, or when settled)."""
        if self.outcome != self.Outcome.PENDING:
            return timedelta(0)
        return max(now - self.due_at, timedelta(0))
