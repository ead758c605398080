from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Drill(models.Model):
    """A rehearsal: a tabletop, a game day or a chaos experiment, with targets to beat."""

    class Kind(models.TextChoices):
        TABLETOP = "tabletop", "Tabletop"
        GAME_DAY = "game_day", "Game day"
        CHAOS = "chaos", "Chaos experiment"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    scenario = models.TextField()
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # The drill incident a game day declared (marked as a drill).
    incident = models.OneToOneField(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="drill_run",
    )
    action_items = models.ManyToManyField(
        "postmortems.ActionItem", blank=True, related_name="drills"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-scheduled_for", "-id"]

    def __str__(self) -> str:
        return self.title
