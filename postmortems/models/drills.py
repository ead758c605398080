"""Drills: the plan per kind (policy data: how often, with which targets, the quarterly
scenarios), and each drill run against it, with its assessment.

The actual times of a drill follow the report definitions (issue 10, "Reports"): detection =
detected - impact started, acknowledgement = acknowledged - detected, resolution = resolved -
detected. A game day takes them from its drill incident; a tabletop or a chaos experiment
without one records them by hand in its assessment.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class Cadence(models.TextChoices):
    MONTH = "month", "Monthly"
    QUARTER = "quarter", "Quarterly"
    YEAR = "year", "Yearly"


# What a cadence means as a gap between drills of a kind ("due by" on the plan's page).
CADENCE_DAYS = {Cadence.MONTH: 31, Cadence.QUARTER: 92, Cadence.YEAR: 366}


class DrillKind(models.TextChoices):
    TABLETOP = "tabletop", "Tabletop"
    GAME_DAY = "game_day", "Game day"
    CHAOS = "chaos", "Chaos experiment"


class DrillPlan(models.Model):
    """How often a kind of drill is run and the times it must beat (one per kind), from the
    policy file's ``drills`` section."""

    kind = models.CharField(max_length=10, choices=DrillKind.choices, unique=True)
    every = models.CharField(max_length=10, choices=Cadence.choices, blank=True)
    description = models.TextField(blank=True)
    detect_target = models.DurationField(null=True, blank=True)
    ack_target = models.DurationField(null=True, blank=True)
    resolve_target = models.DurationField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        every = f" ({self.get_every_display().lower()})" if self.every else ""
        return f"{self.get_kind_display()}{every}"


class DrillScenario(models.Model):
    """A plan's scenario for one quarter (003_*: "Q1: Notification system failure simulation")."""

    plan = models.ForeignKey(DrillPlan, on_delete=models.CASCADE, related_name="scenarios")
    quarter = models.PositiveSmallIntegerField()
    scenario = models.CharField(max_length=300)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "quarter"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "quarter"], name="drill_scenario_quarter_once"),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="drill_scenario_quarter_1_to_4"
            ),
        ]

    def __str__(self) -> str:
        return f"Q{self.quarter}: {self.scenario}"


@dataclass(frozen=True)
class Measure:
    """One line of "Performance Against Targets": ``met`` is None when either side is missing."""

    name: str
    actual: timedelta | None
    target: timedelta | None

    @property
    def met(self) -> bool | None:
        if self.actual is None or self.target is None:
            return None
        return self.actual <= self.target


class DrillQuerySet(models.QuerySet):
    def open(self):
        """Scheduled or running: what still has to happen."""
        return self.filter(status__in=Drill.OPEN_STATUSES)


class Drill(models.Model):
    """A rehearsal: a tabletop, a game day or a chaos experiment, with targets to beat."""

    Kind = DrillKind

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class AlertSeverity(models.TextChoices):
        # The words monitors use; the integration's routing picks the level from them.
        CRITICAL = "critical", "critical"
        ERROR = "error", "error"
        WARNING = "warning", "warning"
        INFO = "info", "info"

    OPEN_STATUSES = (Status.SCHEDULED, Status.RUNNING)

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

    # A game day's synthetic alert: the system under test and the integration it goes through.
    service = models.ForeignKey(
        "ircore.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The system under test (the synthetic alert's service label).",
    )
    integration = models.ForeignKey(
        "incidents.Integration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A game day's synthetic alert goes through this integration.",
    )
    alert_severity = models.CharField(
        max_length=10,
        choices=AlertSeverity.choices,
        default=AlertSeverity.CRITICAL,
        help_text="The synthetic alert's severity label (the integration routes it to a level).",
    )

    # Targets, copied from the kind's plan when scheduled (and editable until it runs).
    detect_target = models.DurationField(null=True, blank=True)
    ack_target = models.DurationField(null=True, blank=True)
    resolve_target = models.DurationField(null=True, blank=True)

    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_reason = models.CharField(max_length=300, blank=True)

    # The post-drill assessment (003_* "Post-Drill Assessment Template").
    detect_actual = models.DurationField(null=True, blank=True)
    ack_actual = models.DurationField(null=True, blank=True)
    resolve_actual = models.DurationField(null=True, blank=True)
    communication_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Communication quality, 1 (poor) to 5 (excellent)."
    )
    went_well = models.TextField(blank=True)
    to_improve = models.TextField(blank=True)
    process_updates = models.TextField(
        blank=True, help_text="Changes to procedures, training needs, tool improvements."
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[participants, action_items])

    objects = DrillQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        permissions = [("run_drill", "Can run a drill (a game day injects a synthetic alert)")]
        indexes = [
            # The drill list's "open" filter and the plan page's "last done" per kind.
            models.Index(fields=["status", "-scheduled_for"], name="drill_status_idx"),
            models.Index(fields=["kind", "status", "-ended_at"], name="drill_kind_done_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(communication_score__isnull=True)
                | Q(communication_score__gte=1, communication_score__lte=5),
                name="drill_communication_score_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def duration(self) -> timedelta | None:
        """The template's "Duration: [X hours]": started to ended."""
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    def measures(self) -> list[Measure]:
        """The template's "Performance Against Targets": each actual time against its target."""
        return [
            Measure("Detection time", self.detect_actual, self.detect_target),
            Measure("Response time (acknowledgement)", self.ack_actual, self.ack_target),
            Measure("Resolution time", self.resolve_actual, self.resolve_target),
        ]


def incident_times(incident) -> dict[str, timedelta | None]:
    """A drill incident's actual times, by the report definitions (module docstring)."""

    def between(start: datetime | None, end: datetime | None) -> timedelta | None:
        return end - start if start is not None and end is not None else None

    return {
        "detect_actual": between(incident.impact_started_at, incident.detected_at),
        "ack_actual": between(incident.detected_at, incident.acknowledged_at),
        "resolve_actual": between(incident.detected_at, incident.resolved_at),
    }
