"""Action items (what an incident or a drill taught, chased until done) and the policy rows
that set their default due dates by priority (the ``action_items`` policy section)."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .postmortems import Postmortem

# A whole year and a half is the longest default any process needs; longer is a typo.
MAX_DUE_DAYS = 550


def validate_https(value: str) -> None:
    """External tickets are linked over https only (no http, javascript: or file: links)."""
    if value and not value.lower().startswith("https://"):
        raise ValidationError("Link the ticket with an https:// address.")


class ActionItemQuerySet(models.QuerySet):
    def finished(self):
        return self.filter(status__in=ActionItem.FINISHED)

    def unfinished(self):
        # Named positively (not "not finished"): the partial index below serves it.
        return self.filter(status__in=ActionItem.UNFINISHED)

    def completed_in(self, start, end):
        """Finished (done or won't do) between ``start`` and ``end``: the services set
        ``completed_at`` exactly when an item finishes and clear it when it re-opens, so the
        time alone says it (and its index serves it)."""
        return self.filter(completed_at__gte=start, completed_at__lt=end)

    def overdue(self, today):
        """Unfinished past their due date (the one definition of overdue)."""
        return self.unfinished().filter(due_on__lt=today)

    def real(self):
        """Drills never count: not the items of a drill incident's postmortem, nor those a
        drill's assessment lists. Both as sets of ids (a few), not joins per item: the
        overdue figure reads every unfinished item of the history."""
        drill_postmortems = Postmortem.objects.filter(incident__is_drill=True).values("pk")
        in_drills = ActionItem.drills.through.objects.values("actionitem_id")
        return self.exclude(postmortem_id__in=drill_postmortems).exclude(pk__in=in_drills)


class ActionItem(models.Model):
    """A change that an incident or a drill taught, chased until done."""

    class Kind(models.TextChoices):
        PREVENT = "prevent", "Prevent"
        DETECT = "detect", "Detect"
        MITIGATE = "mitigate", "Mitigate"
        PROCESS = "process", "Process"

    class Priority(models.TextChoices):
        P1 = "p1", "P1"
        P2 = "p2", "P2"
        P3 = "p3", "P3"
        P4 = "p4", "P4"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    FINISHED = (Status.DONE, Status.WONT_DO)
    UNFINISHED = (Status.OPEN, Status.IN_PROGRESS)

    postmortem = models.ForeignKey(
        "postmortems.Postmortem",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="action_items",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown: what to change, and why.")
    kind = models.CharField("type", max_length=10, choices=Kind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    team = models.ForeignKey(
        "ircore.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P2)
    due_on = models.DateField(
        blank=True, help_text="Blank: the priority's default from the policy."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    ticket_url = models.URLField(
        "external ticket",
        max_length=500,
        blank=True,
        validators=[validate_https],
        help_text="Optional link to the ticket in another tracker (https).",
    )
    evidence = models.TextField(
        blank=True,
        help_text="How we know it is done: a merged change, a dashboard, a runbook (required "
        "to mark it done).",
    )
    wont_do_reason = models.TextField("reason for won't do", blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # --- the reminder clock (postmortems.services.actions.action_reminders_due) ---
    # When the reconciler next has something to send for it; None once finished.
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    # The due date the "due soon" reminder went out for (a new due date reminds again).
    reminded_for = models.DateField(null=True, blank=True)
    # Overdue notices sent for the current due date: one per period overdue.
    overdue_notices = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords(
        excluded_fields=["next_reminder_at", "reminded_for", "overdue_notices"]
    )

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="action_item_due_idx"),
            # Overdue as of a day (the reports, /metrics): unfinished items by due date.
            models.Index(
                fields=["due_on", "id"],
                name="action_item_unfinished_idx",
                condition=Q(status__in=["open", "in_progress"]),
            ),
            # Completed in a period (the reports).
            models.Index(
                fields=["completed_at"],
                name="action_item_completed_idx",
                condition=Q(completed_at__isnull=False),
            ),
            # Used by the action_reminders_due reconciler: unfinished, a reminder due now.
            models.Index(
                fields=["next_reminder_at"],
                name="action_item_reminder_idx",
                condition=Q(next_reminder_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(evidence=""),
                name="action_item_done_has_evidence",
                violation_error_message="Document completion with evidence to mark it done.",
            ),
            models.CheckConstraint(
                condition=~Q(status="wont_do") | ~Q(wont_do_reason=""),
                name="action_item_wont_do_has_reason",
                violation_error_message="Say why it will not be done.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("admin:postmortems_actionitem_change", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def is_overdue(self, today: date) -> bool:
        return not self.is_finished and self.due_on < today


class ActionItemDeadline(models.Model):
    """Policy: how many days an action item of each priority has by default."""

    priority = models.CharField(max_length=2, choices=ActionItem.Priority.choices, unique=True)
    days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DUE_DAYS)],
        help_text="Days from the item's creation to its default due date.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["priority"]
        verbose_name = "action item deadline"

    def __str__(self) -> str:
        return f"{self.get_priority_display()}: {self.days} days"
