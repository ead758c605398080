"""Integrations, their routing rules, alerts and maintenance windows.

Imported at the end of ``incidents.models`` so they belong to the ``incidents`` app. State
changes go through ``incidents.alerts.services``.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ircore.models import Service, Severity


class Integration(models.Model):
    """A named inbound endpoint with its own secret token (only its sha256 is stored)."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
        EVENTS = "events", "PagerDuty Events API v2"
        GENERIC = "generic", "Generic JSON webhook"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(
        max_length=8, blank=True, editable=False, help_text="The token's last characters."
    )
    enabled = models.BooleanField(default=True)
    service = models.ForeignKey(
        Service,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="default service",
        help_text="When no routing rule names a service.",
    )
    severity = models.ForeignKey(
        Severity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        # Named (not "+"), so a severity scheme switch (--map) finds and moves these rows.
        related_name="alert_integrations",
        verbose_name="default severity",
        help_text="When no routing rule names a severity.",
    )
    dedup_labels = models.JSONField(
        default=list,
        blank=True,
        help_text="Label names to deduplicate on (empty: the monitor's fingerprint/dedup key).",
    )
    group_window = models.DurationField(
        default=timedelta(minutes=5),
        help_text="Alerts for a service within this time of its incident's last alert join it.",
    )
    auto_resolve = models.BooleanField(
        default=False, help_text="Resolve the incident when all of its alerts are resolved."
    )
    heartbeat_every = models.DurationField(
        null=True, blank=True, help_text="Expect a ping this often (empty: no heartbeat)."
    )
    heartbeat_grace = models.DurationField(
        default=timedelta(minutes=5), help_text="How late a ping may be before it alerts."
    )
    last_ping_at = models.DateTimeField(null=True, blank=True)
    # When the next ping is due plus grace; null = nothing due (no heartbeat, or late already).
    heartbeat_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["last_ping_at", "heartbeat_due_at"])

    class Meta:
        ordering = ["name"]
        indexes = [
            # heartbeats_check: the integrations whose ping is overdue, and only those.
            models.Index(
                fields=["heartbeat_due_at"],
                name="integration_heartbeat_due_idx",
                condition=Q(heartbeat_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Label ``label`` equal to ``value`` routes to ``service`` and/or ``severity``.

    Rules are read in ``position`` order; the first matching rule that names a service sets
    the service, the first that names a severity sets the severity. ``value`` matches exactly,
    except ``*``, which matches any value (the label is present)."""

    ANY = "*"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=100)
    value = models.CharField(max_length=200, help_text="Exact value, or * for any.")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    severity = models.ForeignKey(
        Severity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alert_routing_rules",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["integration", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False) | Q(severity__isnull=False),
                name="routing_rule_routes_somewhere",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}={self.value}"

    def matches(self, labels: dict) -> bool:
        if self.label not in labels:
            return False
        return self.value == self.ANY or str(labels[self.label]) == self.value


class MaintenanceWindow(models.Model):
    """Planned work on a service: alerts during it are recorded, declare nothing, page no one."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="maintenance")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="maintenance_ends_later")
        ]
        indexes = [
            # The window active for a service at an alert's arrival (service, end > now).
            models.Index(fields=["service", "end"], name="maintenance_service_end_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.service} maintenance {self.start:%Y-%m-%d %H:%M} UTC"

    def active_at(self, when) -> bool:
        return self.start <= when < self.end


class Alert(models.Model):
    """One alert from one integration, updated in place while it fires (deduplication)."""

    class Status(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alerts")
    dedup_key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.FIRING)
    summary = models.CharField(max_length=1024)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    severity = models.ForeignKey(
        Severity, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    last_received_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    repeat_count = models.PositiveIntegerField(default=0, help_text="Repeats after the first.")
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text="The payload as received.")
    suppressed_by = models.ForeignKey(
        MaintenanceWindow,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    # A rehearsal's alert (``ingest(drill=True)``, never from the wire): it deduplicates and
    # groups only with drill alerts, and declares or joins only drill incidents.
    is_drill = models.BooleanField("drill", default=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # Deduplication's last line of defence: one firing alert per key per integration
            # (a drill's and a real one apart).
            models.UniqueConstraint(
                fields=["integration", "dedup_key", "is_drill"],
                condition=Q(status="firing"),
                name="alert_firing_dedup_unique",
            ),
        ]
        indexes = [
            # Grouping: the newest alert of a service attached to an incident, in the window.
            models.Index(
                fields=["service", "received_at"],
                name="alert_grouping_idx",
                condition=Q(incident__isnull=False),
            ),
            # "All alerts of the incident resolved?" and the incident page's alert list.
            models.Index(fields=["incident", "status"], name="alert_incident_status_idx"),
            models.Index(fields=["incident", "-received_at"], name="alert_incident_recent_idx"),
            # The admin change list: default ordering and its filters.
            models.Index(fields=["-received_at", "-id"], name="alert_received_idx"),
            models.Index(fields=["status", "-received_at"], name="alert_status_idx"),
            models.Index(fields=["integration", "-received_at"], name="alert_integration_idx"),
            models.Index(fields=["service", "-received_at"], name="alert_service_idx"),
            # The last resolved alert of a key (a retried "resolved" answers the same).
            models.Index(fields=["integration", "dedup_key", "-id"], name="alert_key_idx"),
        ]

    def __str__(self) -> str:
        drill = " DRILL" if self.is_drill else ""
        return f"{self.integration_id}:{self.dedup_key} {self.status}{drill}"
