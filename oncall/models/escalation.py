"""Escalation: the policies people write (ordered steps), the state of each incident's
escalation (a snapshot of its plan and when it is next due) and the pages it sent.

The engine that reads and writes these lives in ``oncall.services.escalation``. What "the
incident has reached a point" means (the ``unless`` of a step) is defined here once, both as a
query (``point_reached_q``, used by ``Page.objects.live()``) and in Python (``point_reached``).
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents.models import Incident, RoleAssignment
from ircore.models import Delivery, NotificationEndpoint, Service, Severity, Team

from .schedules import Layer


class Point(models.TextChoices):
    """How far an incident has come; a step stops once its point is reached."""

    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    IDENTIFIED = "identified", "Identified"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"


_S = Incident.Status
_IDENTIFIED_OR_LATER = (_S.IDENTIFIED, _S.MONITORING, _S.RESOLVED, _S.CLOSED)
_MONITORING_OR_LATER = (_S.MONITORING, _S.RESOLVED, _S.CLOSED)
_RESOLVED_OR_LATER = (_S.RESOLVED, _S.CLOSED)


def point_reached_q(point: str, prefix: str = "incident__") -> Q:
    """The incidents (through ``prefix``) that have reached ``point``. Resolved or closed
    reaches every point: nothing is paged about a finished incident."""
    done = Q(**{f"{prefix}status__in": _RESOLVED_OR_LATER})
    if point == Point.ACKNOWLEDGED:
        return done | Q(**{f"{prefix}acknowledged_at__isnull": False})
    if point == Point.IDENTIFIED:
        return Q(**{f"{prefix}status__in": _IDENTIFIED_OR_LATER})
    if point == Point.MITIGATED:
        return Q(**{f"{prefix}mitigated_at__isnull": False}) | Q(
            **{f"{prefix}status__in": _MONITORING_OR_LATER}
        )
    return done


def point_reached(incident: Incident, point: str) -> bool:
    """``point_reached_q`` for one loaded incident (read it under its row lock)."""
    status = incident.status
    if status in _RESOLVED_OR_LATER:
        return True
    if point == Point.ACKNOWLEDGED:
        return incident.acknowledged_at is not None
    if point == Point.IDENTIFIED:
        return status in _IDENTIFIED_OR_LATER
    if point == Point.MITIGATED:
        return incident.mitigated_at is not None or status in _MONITORING_OR_LATER
    return False


# Bounds a policy keeps, wherever it is written (the admin's form runs ``clean``; the policy
# file's escalation section reads the same numbers).
MAX_STEPS = 50
MAX_REPEATS = 20


class EscalationPolicy(models.Model):
    """An ordered list of steps. Which policy applies to an incident: its first affected
    service's policy, else that service's team's policy, else the default
    (``oncall.services.escalation.policy_for``).

    Repeats: the last ``repeat_last`` steps are played again ``repeat_times`` times. Round k
    (1..K) of a repeated step is due at ``step.delay + k * (span + repeat_after)``, where
    ``span`` is the last step's delay minus the first repeated step's delay: each round starts
    ``repeat_after`` after the previous round's last step, keeping the steps' spacing."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalation_policies",
        help_text="This team's policy, for services of the team that have none of their own.",
    )
    service = models.OneToOneField(
        Service,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalation_policy",
        help_text="This service's own policy.",
    )
    is_default = models.BooleanField(
        "default", default=False, help_text="Used when neither the service nor its team has one."
    )
    repeat_last = models.PositiveSmallIntegerField(
        default=0, help_text="Repeat the last N steps (0: no repeat)."
    )
    repeat_times = models.PositiveSmallIntegerField(
        default=0, help_text="How many times the last steps are repeated."
    )
    repeat_after = models.DurationField(
        default=timedelta(minutes=10),
        help_text="Gap between the last step of one round and the first of the next.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="escalation_policy_one_default",
            ),
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(team__isnull=False, service__isnull=True),
                name="escalation_policy_one_per_team",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.team_id and self.service_id:
            raise ValidationError(
                {"team": "A policy is a service's or a team's, not both: clear one of them."}
            )
        if self.repeat_times > MAX_REPEATS:
            raise ValidationError({"repeat_times": f"At most {MAX_REPEATS} repeats."})
        if self.repeat_last > MAX_STEPS:
            raise ValidationError({"repeat_last": f"At most {MAX_STEPS} steps."})
        if self.repeat_times and not self.repeat_last:
            raise ValidationError({"repeat_last": "Say how many of the last steps repeat."})
        if self.repeat_last and not self.repeat_times:
            raise ValidationError({"repeat_times": "Say how many times they repeat."})


class EscalationStep(models.Model):
    """``delay`` after declaration, unless the incident has reached ``unless``, page
    ``target``. Steps with ``severities`` apply only at those severities (none: all)."""

    class Target(models.TextChoices):
        LAYER = "layer", "On-call of a schedule layer"
        USER = "user", "A named person"
        TEAM_LEAD = "team_lead", "A team's lead"
        TEAM_MANAGER = "team_manager", "A team's manager"
        ROLE = "role", "The holder of an incident role"
        ENDPOINT = "endpoint", "An e-mail / chat / webhook endpoint"

    # The field each target needs (team targets fall back to the incident's service's team).
    TARGET_FIELD = {
        Target.LAYER: "layer",
        Target.USER: "user",
        Target.ROLE: "role",
        Target.ENDPOINT: "endpoint",
    }

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    delay = models.DurationField(default=timedelta(0), help_text="After declaration, e.g. 0:05:00.")
    unless = models.CharField(
        max_length=12,
        choices=Point.choices,
        default=Point.ACKNOWLEDGED,
        help_text="Skip (and stop) this step once the incident has reached this point.",
    )
    severities = models.ManyToManyField(
        Severity, blank=True, related_name="+", help_text="Only at these severities (none: all)."
    )
    target = models.CharField(max_length=12, choices=Target.choices)
    layer = models.ForeignKey(
        Layer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="For lead/manager targets; blank: the incident's service's team.",
    )
    role = models.CharField(max_length=16, choices=RoleAssignment.Role.choices, blank=True)
    endpoint = models.ForeignKey(
        NotificationEndpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[severities])

    class Meta:
        ordering = ["policy", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="escalation_step_position"),
            models.CheckConstraint(
                condition=~Q(target="layer") | Q(layer__isnull=False),
                name="escalation_step_layer_needs_layer",
            ),
            models.CheckConstraint(
                condition=~Q(target="user") | Q(user__isnull=False),
                name="escalation_step_user_needs_user",
            ),
            models.CheckConstraint(
                condition=~Q(target="role") | ~Q(role=""),
                name="escalation_step_role_needs_role",
            ),
            models.CheckConstraint(
                condition=~Q(target="endpoint") | Q(endpoint__isnull=False),
                name="escalation_step_endpoint_needs_endpoint",
            ),
        ]

    def __str__(self) -> str:
        minutes = int(self.delay.total_seconds() // 60)
        return f"{self.position}. at {minutes} min: {self.get_target_display()}"

    def clean(self) -> None:
        missing = self.missing_target_field()
        if missing:
            raise ValidationError(
                {missing: f"Required when the target is “{self.get_target_display()}”."}
            )

    def missing_target_field(self) -> str:
        """The name of the field this step's target needs and lacks ('' if none)."""
        field = self.TARGET_FIELD.get(self.target)
        if not field:
            return ""
        value = self.role if field == "role" else getattr(self, f"{field}_id")
        return "" if value else field


class EscalationQuerySet(models.QuerySet):
    def due(self, now):
        """Escalations with a step due by ``now``: the partial index range, nothing else."""
        return self.filter(next_escalation_at__isnull=False, next_escalation_at__lte=now)


class Escalation(models.Model):
    """One incident's escalation: the plan as it was at the start (edits to a policy do not
    change an escalation in flight) and when the engine next has something to do."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="escalation")
    policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # [{"position", "delay" (seconds), "unless", "severities" (ids), "target", "layer",
    #   "user", "team", "role", "endpoint", "label"}], plus the repeat settings: see
    # ``oncall.services.escalation.plan``.
    plan = models.JSONField(default=dict, blank=True)
    # The plan's occurrences already handled (paged, skipped because the incident had reached
    # the step's point, or nobody to page), as "position:round" keys.
    done = models.JSONField(default=list, blank=True)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_tick_at = models.DateTimeField(null=True, blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # The engine's tick (escalation_tick): escalations due now.
            models.Index(
                fields=["next_escalation_at"],
                name="escalation_due_idx",
                condition=Q(next_escalation_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"Escalation of {self.incident_id}"


class PageQuerySet(models.QuerySet):
    def live(self):
        """Pages that may still notify: neither acknowledged nor stopped, and whose step's
        ``unless`` point the incident has not reached (the one definition; contact asks it
        before every later attempt)."""
        qs = self.filter(status__in=Page.LIVE_STATUSES)
        reached = Q()
        for point in Point.values:
            reached |= Q(unless=point) & point_reached_q(point)
        return qs.exclude(reached)


class Page(models.Model):
    """One step (one round of it) paging one person or one endpoint about one incident."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        STOPPED = "stopped", "Stopped"

    class Via(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        LINK = "link", "Link in the message"
        CHAT = "chat", "Chat"

    LIVE_STATUSES = (Status.PENDING, Status.SENT, Status.FAILED)

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="pages")
    step = models.PositiveSmallIntegerField(help_text="Position of the step in the plan.")
    repeat = models.PositiveSmallIntegerField(default=0, help_text="0: first round.")
    unless = models.CharField(max_length=12, choices=Point.choices, default=Point.ACKNOWLEDGED)
    target_label = models.CharField(max_length=200, blank=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pages",
    )
    endpoint = models.ForeignKey(
        NotificationEndpoint,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pages",
    )
    due_at = models.DateTimeField()
    paged_at = models.DateTimeField(null=True, blank=True)
    late_by = models.DurationField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_drill = models.BooleanField("drill", default=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_via = models.CharField(max_length=8, choices=Via.choices, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "-id"]
        # Pay per person is not for every responder's eyes: managers and leadership read it.
        permissions = [("view_oncall_report", "Can see on-call load and pay")]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "step", "repeat", "recipient"], name="page_once_per_person"
            ),
            models.UniqueConstraint(
                fields=["incident", "step", "repeat", "endpoint"], name="page_once_per_endpoint"
            ),
            models.CheckConstraint(
                condition=Q(recipient__isnull=True, endpoint__isnull=False)
                | Q(recipient__isnull=False, endpoint__isnull=True),
                name="page_one_target",
            ),
        ]
        indexes = [
            # The admin and API lists: newest first, a page at a time.
            models.Index(fields=["-due_at", "-id"], name="page_list_idx"),
            # A person's pages (the API's recipient filter, the on-call report).
            models.Index(fields=["recipient", "-due_at"], name="page_recipient_idx"),
            # Stopping an incident's live pages.
            models.Index(fields=["incident", "status"], name="page_incident_status_idx"),
        ]

    def __str__(self) -> str:
        who = self.recipient or self.endpoint
        return f"Page to {who} (step {self.step}, round {self.repeat})"

    @property
    def is_live_status(self) -> bool:
        return self.status in self.LIVE_STATUSES
