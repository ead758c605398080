"""The postmortem of one incident: its sections (from the seeds' templates), its own timeline
rows, its review meeting, and the stamps the deadline reconciler keeps.

State changes go through ``postmortems.services.postmortems``; nothing here writes the
incident's timeline or sends a reminder by itself.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from postmortems.durations import time_to_detect

# The blameless prompts the form shows (help texts), one home for the admin and the API docs.
BLAMELESS = "Describe what the system and the process allowed, not who is to blame."


class PostmortemQuerySet(models.QuerySet):
    def unpublished(self):
        """Still to be written or reviewed: what the deadline clock chases."""
        return self.exclude(status=Postmortem.Status.PUBLISHED)

    def real(self):
        """Postmortems of real incidents (drills never count in the figures)."""
        return self.filter(incident__is_drill=False)

    def on_time(self):
        """Published, and first published by the deadline (the one definition; the reports
        read it). Re-opened ones are not published, so not counted until published again; a
        postmortem with no deadline counts as on time once published."""
        return self.filter(status=Postmortem.Status.PUBLISHED).filter(
            Q(due_at__isnull=True) | Q(published_at__lte=F("due_at"))
        )

    def overdue(self, now: datetime):
        """Past the deadline and not published."""
        return self.unpublished().filter(due_at__lt=now)


class Postmortem(models.Model):
    """The blameless review of one incident, due by a deadline its severity sets."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"

    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, related_name="postmortem"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="postmortems",
        help_text="Writes it and hears the reminders: the incident commander unless reassigned.",
    )
    opened_at = models.DateTimeField()
    # None: opened by the system when the incident was resolved.
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    # The resolution the deadline counts from, while it follows the policy: a re-opened and
    # re-resolved incident moves it. False once a person sets the deadline by hand.
    due_from_policy = models.BooleanField(default=True)
    deadline_basis = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(blank=True)

    # --- sections (Markdown, rendered sanitised) ---
    summary = models.TextField(
        blank=True, help_text="What happened, in a few sentences a newcomer would follow."
    )
    customers_affected = models.PositiveIntegerField(
        null=True, blank=True, help_text="Users or customers impacted (from the incident)."
    )
    transactions_delayed = models.PositiveBigIntegerField(null=True, blank=True)
    transactions_failed = models.PositiveBigIntegerField(null=True, blank=True)
    financial_impact = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Estimated, in dollars."
    )
    user_impact = models.TextField(blank=True, help_text="How users were affected.")
    business_impact = models.TextField(
        blank=True, help_text="Revenue, reputation, contracts, regulators."
    )
    immediate_cause = models.TextField(
        blank=True, help_text="The direct trigger: the change or event that set it off."
    )
    contributing_factors = models.TextField(
        blank=True, help_text=f"What made it possible or worse. {BLAMELESS}"
    )
    five_whys = models.TextField(
        blank=True,
        help_text="Ask “why?” of the trigger, then of each answer, about five times.",
    )
    root_cause = models.TextField(
        blank=True,
        help_text="The fundamental issue the five whys lead to (a system, not a person).",
    )
    detection = models.TextField(
        blank=True, help_text="How it was noticed (an alert, a customer, a colleague) and when."
    )
    went_well = models.TextField(blank=True, help_text="What helped: keep doing it.")
    went_poorly = models.TextField(
        blank=True, help_text=f"What got in the way, and what was missing. {BLAMELESS}"
    )
    lessons_learned = models.TextField(blank=True, help_text="Key takeaways for next time.")
    review_meeting_at = models.DateTimeField(
        null=True, blank=True, help_text="When the review meeting is (or was) held."
    )
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    other_attendees = models.TextField(
        blank=True, help_text="People without a login here, one per line."
    )

    # --- the deadline clock (postmortems.services.postmortems.postmortem_reminders_due) ---
    # When the reconciler next has something to do for it (a reminder, an overdue notice,
    # telling the manager); None once published. The one column the tick reads.
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    # The deadline the "due soon" reminder went out for (a new deadline reminds again).
    reminded_for = models.DateTimeField(null=True, blank=True)
    # Overdue notices sent for the current deadline: one per period overdue.
    overdue_notices = models.PositiveSmallIntegerField(default=0)
    # When the owner's manager was told it is more than a day overdue (for this deadline).
    manager_told_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(
        m2m_fields=[attendees],
        excluded_fields=["next_reminder_at", "reminded_for", "overdue_notices", "manager_told_at"],
    )
    objects = PostmortemQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        permissions = [
            ("publish_postmortem", "Can publish and re-open postmortems"),
            ("manage_postmortem", "Can write any postmortem and reassign it"),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="postmortem_due_idx"),
            # Used by the postmortem_reminders_due reconciler: unpublished, due now.
            models.Index(
                fields=["next_reminder_at"],
                name="postmortem_reminder_idx",
                condition=Q(next_reminder_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Postmortem of {self.incident}"

    def get_absolute_url(self) -> str:
        return reverse("admin:postmortems_postmortem_change", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def on_time(self) -> bool | None:
        """Published by the deadline; None while unpublished (the queryset's rule)."""
        if not self.is_published or self.published_at is None:
            return None
        return self.due_at is None or self.published_at <= self.due_at

    def overdue(self, now: datetime) -> bool:
        return not self.is_published and self.due_at is not None and self.due_at < now

    @property
    def time_to_detect(self) -> timedelta | None:
        """This incident's time to detect: detected - impact started (MTTD's term)."""
        return time_to_detect(self.incident)


class PostmortemTimelineEntry(models.Model):
    """A row of the postmortem's own timeline: pre-filled from the incident's timeline when
    the postmortem opens, then edited, starred (the moments that matter) or added to."""

    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="timeline")
    occurred_at = models.DateTimeField()
    text = models.TextField()
    starred = models.BooleanField(default=False, help_text="A key moment of the story.")
    kind = models.CharField(max_length=16, blank=True, help_text="The incident entry's kind.")
    source = models.ForeignKey(
        "incidents.TimelineEntry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The incident timeline entry it was copied from.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["postmortem", "occurred_at", "id"]
        verbose_name_plural = "postmortem timeline entries"
        constraints = [
            # Pre-filling twice (a retry, two callers) never copies an entry twice.
            models.UniqueConstraint(
                fields=["postmortem", "source"],
                condition=Q(source__isnull=False),
                name="postmortem_timeline_source_once",
            )
        ]

    def __str__(self) -> str:
        return f"{'★ ' if self.starred else ''}{self.occurred_at:%Y-%m-%d %H:%M} {self.text[:60]}"
