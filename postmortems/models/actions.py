from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class ActionItemQuerySet(models.QuerySet):
    def finished(self):
        return self.filter(status__in=ActionItem.FINISHED)

    def unfinished(self):
        return self.exclude(status__in=ActionItem.FINISHED)

    def overdue(self, today):
        """Unfinished past their due date (the one definition of overdue)."""
        return self.unfinished().filter(due_on__lt=today)


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

    postmortem = models.ForeignKey(
        "postmortems.Postmortem",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="action_items",
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
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
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="action_item_due_idx")]

    def __str__(self) -> str:
        return self.title
