"""Incidents, their lifecycle timestamps, affected services, roles, checklist, timeline,
impact-threshold crossings, and runbooks.

State changes go through ``incidents.services``; nothing here writes the timeline
or sends events by itself.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ircore.models import ChecklistTemplateItem, FinancialThreshold, IncidentType, Service, Severity

# The lifecycle timestamps, in the order they must keep (metrics are built on them).
TIMESTAMP_ORDER = (
    "impact_started_at",
    "detected_at",
    "declared_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)


@dataclass(frozen=True)
class ChecklistProgress:
    """Done of total; with no items there is no progress to speak of (``percent`` is None),
    neither 0% nor 100%."""

    done: int
    total: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.total) if self.total else None


@dataclass(frozen=True)
class RegulatoryClock:
    """The regulator's notification clock of one incident at one instant.

    ``level``: "due" (running), "overdue", "met" (notified in time) or "late" (notified after
    the deadline). ``seconds_remaining`` is negative once overdue and None once notified.
    """

    due_at: datetime
    notified_at: datetime | None
    level: str
    seconds_remaining: int | None

    @property
    def overdue(self) -> bool:
        return self.level == "overdue"


class IncidentQuerySet(models.QuerySet):
    def open(self):
        """Open: neither resolved nor closed (the one definition; ``Incident.is_open``).

        Read from the generated ``open_rank`` column, which ``incident_open_first_idx``
        serves: the board at a million incidents is an index range, not a table scan."""
        return self.filter(open_rank=1)

    def not_open(self):
        return self.filter(open_rank=0)

    def real(self):
        """Drills excluded: what the metrics count."""
        return self.filter(is_drill=False)


class Incident(models.Model):
    class Status(models.TextChoices):
        DECLARED = "declared", "Declared"
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    CLOSED_STATES = (Status.RESOLVED, Status.CLOSED)
    # A summary is a paragraph or a few, not a log dump (a 100,000-character one made the page
    # 1.6 million pixels wide); the services enforce it, forms read it from the field.
    SUMMARY_LIMIT = 10_000

    reference = models.CharField(max_length=32, unique=True, editable=False)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, max_length=SUMMARY_LIMIT)
    severity = models.ForeignKey(Severity, on_delete=models.PROTECT, related_name="incidents")
    incident_type = models.ForeignKey(
        IncidentType, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DECLARED)
    is_drill = models.BooleanField("drill", default=False, help_text="Kept out of real metrics.")
    channel_name = models.CharField(max_length=80, blank=True)

    impact_started_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(null=True, blank=True)
    declared_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # Impact figures.
    customers_affected = models.PositiveIntegerField(null=True, blank=True)
    transactions_delayed = models.PositiveBigIntegerField(null=True, blank=True)
    transactions_failed = models.PositiveBigIntegerField(null=True, blank=True)
    financial_impact = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    # Security and privacy: regulators must hear by this time (detected + N hours).
    regulatory_due_at = models.DateTimeField(null=True, blank=True)
    regulator_notified_at = models.DateTimeField(null=True, blank=True)
    evidence_preserved_at = models.DateTimeField(null=True, blank=True)
    credentials_rotated_at = models.DateTimeField(null=True, blank=True)

    # 1 while open, 0 once resolved or closed (``CLOSED_STATES``, spelled out because the
    # migration fixes the expression): computed by the database, so the change list's
    # open-first ordering is an index scan (incident_open_first_idx), not a sort of the table.
    open_rank = models.GeneratedField(
        expression=Case(
            When(status__in=["resolved", "closed"], then=Value(0)),
            default=Value(1),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )

    services = models.ManyToManyField(Service, through="IncidentService", related_name="incidents")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "open_rank"])
    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-declared_at", "-id"]
        permissions = [
            ("override_ic_certification", "Can make an uncertified person incident commander"),
        ]
        indexes = [
            # Change list and API default ordering, and "open" filters.
            models.Index(fields=["status", "-declared_at"], name="incident_status_declared_idx"),
            models.Index(fields=["-declared_at", "-id"], name="incident_declared_idx"),
            # The admin change list's default ordering: open incidents first, newest first.
            models.Index(
                F("open_rank").desc(),
                F("declared_at").desc(),
                F("id").desc(),
                name="incident_open_first_idx",
            ),
            models.Index(fields=["severity", "-declared_at"], name="incident_severity_idx"),
            # The few drills, for the figures that leave them out by id (drill postmortems,
            # their action items) without reading every incident.
            models.Index(fields=["id"], name="incident_drill_idx", condition=Q(is_drill=True)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("declared_at")),
                name="incident_resolved_after_declared",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(resolved_at__isnull=False),
                name="incident_closed_needs_resolved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        """The incident's page (the admin is the primary UI); notifications link to it."""
        return reverse("admin:incidents_incident_change", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATES

    @property
    def is_closed(self) -> bool:
        """Closed (the final status): a finished record that accepts notes only."""
        return self.status == self.Status.CLOSED

    @property
    def regulatory_clock_applies(self) -> bool:
        """Whether a regulator must be told by a deadline. The deadline is fixed on the
        incident when its type (with a clock) is set; a later policy change to the type's
        hours does not erase an obligation that is already running."""
        return self.regulatory_due_at is not None

    def regulatory_clock(self, now: datetime) -> RegulatoryClock | None:
        if not self.regulatory_clock_applies:
            return None
        due, notified = self.regulatory_due_at, self.regulator_notified_at
        if notified is not None:
            return RegulatoryClock(due, notified, "met" if notified <= due else "late", None)
        remaining = int((due - now).total_seconds())
        return RegulatoryClock(due, None, "due" if remaining >= 0 else "overdue", remaining)

    @property
    def security_tracked(self) -> bool:
        """Security/privacy checkpoints apply: its type tracks them, or a regulator's clock runs."""
        # The incident's own clock, not the type's hours today: a policy import that clears
        # the hours leaves a running obligation, and its regulator checkpoint with it.
        kind = self.incident_type
        return self.regulatory_clock_applies or (kind is not None and kind.security_checkpoints)


class ReferenceCounter(models.Model):
    """Per-day sequence behind INC-YYYY-MM-DD-NNN; a row lock makes numbers unique and gapless
    under concurrent declarations."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class IncidentService(models.Model):
    class Status(models.TextChoices):
        OPERATIONAL = "operational", "Operational"
        DEGRADED = "degraded", "Degraded performance"
        PARTIAL_OUTAGE = "partial_outage", "Partial outage"
        MAJOR_OUTAGE = "major_outage", "Major outage"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DEGRADED)
    history = HistoricalRecords()

    class Meta:
        ordering = ["service__name"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "service"], name="incident_service_unique")
        ]
        verbose_name = "affected service"

    def __str__(self) -> str:
        return f"{self.service}: {self.get_status_display()}"


class RoleAssignment(models.Model):
    """Who held which role when. The current holder has ``relieved_at`` empty; a hand-over
    closes the old row and opens a new one, so the history of holders is kept."""

    class Role(models.TextChoices):
        INCIDENT_COMMANDER = "ic", "Incident Commander"
        TECH_LEAD = "tech_lead", "Tech Lead"
        COMMS_LEAD = "comms_lead", "Communications Lead"
        SME = "sme", "Subject Matter Expert"
        EXECUTIVE_SPONSOR = "exec_sponsor", "Executive Sponsor"

    SINGLE_HOLDER_ROLES = (
        Role.INCIDENT_COMMANDER,
        Role.TECH_LEAD,
        Role.COMMS_LEAD,
        Role.EXECUTIVE_SPONSOR,
    )

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=16, choices=Role.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incident_roles"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    relieved_at = models.DateTimeField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    override_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why an uncertified person was made IC (incident managers only).",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "role", "-assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "role"],
                condition=Q(relieved_at__isnull=True) & ~Q(role="sme"),
                name="one_current_holder_per_role",
            ),
            models.UniqueConstraint(
                fields=["incident", "role", "user"],
                condition=Q(relieved_at__isnull=True),
                name="no_duplicate_current_role_holder",
            ),
        ]
        indexes = [
            models.Index(
                fields=["incident", "role"],
                name="role_current_idx",
                condition=Q(relieved_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user}"

    @property
    def is_current(self) -> bool:
        return self.relieved_at is None


class ChecklistItem(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="checklist")
    template_item = models.ForeignKey(
        ChecklistTemplateItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    severity_key = models.CharField(
        max_length=20, blank=True, help_text="The severity whose checklist added this item."
    )
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "text"], name="checklist_text_once"),
        ]

    def __str__(self) -> str:
        return f"[{'x' if self.done_at else ' '}] {self.text}"

    @property
    def done(self) -> bool:
        return self.done_at is not None


class TimelineEntry(models.Model):
    """One ordered record of everything that happened; later apps add their kinds through
    ``incidents.services.timeline_add``."""

    class Kind(models.TextChoices):
        # Automatic
        DECLARED = "declared", "Declared"
        STATUS = "status", "Status change"
        SEVERITY = "severity", "Severity change"
        ROLE = "role", "Role change"
        CHECKLIST = "checklist", "Checklist"
        FIELD = "field", "Details changed"
        SERVICE = "service", "Affected service"
        IMPACT = "impact", "Impact"
        THRESHOLD = "threshold", "Financial threshold"
        SECURITY = "security", "Security checkpoint"
        # Room for the apps above (detection, on-call, comms, postmortems).
        ALERT = "alert", "Alert"
        PAGE = "page", "Page"
        ACKNOWLEDGEMENT = "ack", "Acknowledgement"
        ESCALATION = "escalation", "Escalation"
        NOTICE = "notice", "Customer notice"
        UPDATE = "update", "Status update"
        POSTMORTEM = "postmortem", "Postmortem"
        # Manual, by responders
        NOTE = "note", "Note"
        HYPOTHESIS = "hypothesis", "Hypothesis"
        ACTION = "action", "Action"
        DECISION = "decision", "Decision"

    MANUAL_KINDS = (Kind.NOTE, Kind.HYPOTHESIS, Kind.ACTION, Kind.DECISION)
    # What a person writes in one go (a note, a status note, a reason). Entries the services
    # compose may be longer (a summary's old and new text), so the column itself has no cap.
    NOTE_LIMIT = 10_000

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "occurred_at", "id"]
        verbose_name_plural = "timeline entries"
        indexes = [
            # The incident page and the postmortem read one incident's timeline in order.
            models.Index(fields=["incident", "occurred_at", "id"], name="timeline_order_idx"),
        ]

    def __str__(self) -> str:
        when = self.occurred_at.astimezone(UTC)
        return f"{when:%Y-%m-%d %H:%M} UTC {self.get_kind_display()}: {self.text[:60]}"


class ThresholdCrossing(models.Model):
    """A financial threshold an incident crossed; unique so it is crossed once, and
    ``notified_at`` so its audience is told once (a drill records the crossing and tells
    nobody; turning real tells them then, and never again)."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="threshold_crossings"
    )
    threshold = models.ForeignKey(FinancialThreshold, on_delete=models.CASCADE, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    crossed_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the audience was told; empty: nobody yet."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "threshold"], name="threshold_crossed_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} crossed {self.threshold}"


class Runbook(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField(help_text="Markdown; rendered sanitised.")
    services = models.ManyToManyField(Service, blank=True, related_name="runbooks")
    incident_types = models.ManyToManyField(IncidentType, blank=True, related_name="runbooks")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(
        m2m_fields=[services, incident_types], excluded_fields=["updated_at"]
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


# Detection (integrations, alerts, maintenance windows) lives in its own area of the app.
from .alerts.models import Alert, Integration, MaintenanceWindow, RoutingRule  # noqa: E402, F401
