"""Schedules: who is on call, by rotation, roster versions, skips and overrides; shift swaps,
iCalendar feed tokens and the hand-off notices the reconciler has sent.

The maths (who is on call when) lives in ``oncall.rotation``; the reads in
``oncall.selectors``; every change a person makes in ``oncall.services``.
"""

import zoneinfo
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ircore.models import Team


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. Europe/London).")


weekday_digits = RegexValidator(
    r"^1?2?3?4?5?6?7?$", "ISO weekday numbers in order, e.g. 12345 for Monday to Friday."
)


class Schedule(models.Model):
    """A team's on-call schedule: layers (primary, secondary ...) in one time zone."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="schedules")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Hand-offs and restrictions are read on this zone's clock, across DST.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="schedule_unique_name_per_team")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Layer(models.Model):
    """One rotation of a schedule. Level 1 (primary) wins over level 2 (secondary) and so
    on: the schedule's final on-call is the person of the lowest level that has someone."""

    class Kind(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        FORTNIGHTLY = "fortnightly", "Every two weeks"
        DAYS = "days", "Every N days"
        HOURS = "hours", "Every N hours"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=60, help_text="e.g. Primary, Secondary.")
    level = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="1 is the primary; a lower level wins where two have someone.",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.WEEKLY)
    every = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="N, for 'every N days' or 'every N hours' (1 otherwise).",
    )
    start_date = models.DateField(
        help_text="The first shift begins at the hand-off time on this date (schedule's zone)."
    )
    handoff_time = models.TimeField(default=time(9, 0))
    # Optional restriction (follow-the-sun): the layer has someone on call only inside these
    # hours, on these days (a window that passes midnight belongs to the day it starts on).
    active_from = models.TimeField(null=True, blank=True)
    active_until = models.TimeField(null=True, blank=True)
    active_days = models.CharField(
        max_length=7,
        blank=True,
        validators=[weekday_digits],
        help_text="ISO weekdays the layer is active (1 = Monday); blank: every day.",
    )
    # When the hand-off reconciler next has something to do for this layer.
    next_handoff_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords(excluded_fields=["next_handoff_at"])

    class Meta:
        ordering = ["schedule", "level"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "level"], name="layer_unique_level"),
            models.UniqueConstraint(fields=["schedule", "name"], name="layer_unique_name"),
            models.CheckConstraint(
                condition=Q(active_from__isnull=True, active_until__isnull=True)
                | Q(active_from__isnull=False, active_until__isnull=False),
                name="layer_restriction_hours_both_or_neither",
            ),
        ]
        indexes = [
            # Used by the hand-off reconciler (services.handoffs_send_due): layers due now.
            models.Index(
                fields=["next_handoff_at"],
                name="layer_handoff_due_idx",
                condition=Q(next_handoff_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.schedule.name} · {self.name}"


class LayerRoster(models.Model):
    """The ordered participants of a layer from a date on. A later version takes over at the
    first shift that starts on or after its date, continuing the order (``rotation``)."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="rosters")
    effective_from = models.DateField()
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="RosterMember", related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["layer", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "effective_from"], name="roster_unique_date_per_layer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.layer} from {self.effective_from:%Y-%m-%d}"


class RosterMember(models.Model):
    roster = models.ForeignKey(LayerRoster, on_delete=models.CASCADE, related_name="entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["roster", "position"]
        constraints = [
            models.UniqueConstraint(fields=["roster", "position"], name="roster_member_position"),
            models.UniqueConstraint(fields=["roster", "user"], name="roster_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.user}"


class Skip(models.Model):
    """A participant skipped for ``days`` days from ``day`` (hand-off time to hand-off time):
    the next participant in the order covers, and the order goes on as if the skipped person
    had taken the shift (see ``rotation``)."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="skips")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    days = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["layer", "day"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "user", "day"], name="skip_once_per_day")
        ]
        indexes = [
            # Used by the rotation selectors: the skips of some layers near a range of days.
            models.Index(fields=["layer", "day"], name="skip_layer_day_idx")
        ]

    def __str__(self) -> str:
        return f"{self.user} skipped on {self.layer} from {self.day:%Y-%m-%d}"


class Override(models.Model):
    """``user`` covers ``layer`` from ``start`` to ``end``; where overrides overlap, the one
    created later wins (an override of an override)."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["layer", "start", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="override_ends")
        ]
        indexes = [
            # Used by the rotation selectors: overrides of some layers that end after a time
            # (then start before another).
            models.Index(fields=["layer", "end", "start"], name="override_layer_range_idx")
        ]

    def __str__(self) -> str:
        return f"{self.user} covers {self.layer} from {self.start:%Y-%m-%d %H:%M}"


class ShiftSwapRequest(models.Model):
    """A person offers (part of) their shift; a colleague takes it or a manager assigns it,
    which makes an override."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        TAKEN = "taken", "Taken"
        CANCELLED = "cancelled", "Cancelled"

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="swap_requests")
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    override = models.OneToOneField(
        Override, null=True, blank=True, on_delete=models.SET_NULL, related_name="swap"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("assign_shiftswaprequest", "Can assign an offered shift to someone")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="swap_ends"),
        ]
        indexes = [
            # Used by the admin's open offers list.
            models.Index(fields=["status", "start"], name="swap_status_start_idx")
        ]

    def __str__(self) -> str:
        return f"{self.offered_by} offers {self.layer} from {self.start:%Y-%m-%d %H:%M}"


class FeedToken(models.Model):
    """An unguessable, revocable link to a schedule's or a person's iCalendar feed. Only a
    hash is stored: the token itself is shown once, when it is made."""

    schedule = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.CASCADE, related_name="feed_tokens"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="oncall_feed_tokens",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=8, editable=False, help_text="The token's last letters.")
    label = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("manage_feedtoken", "Can make feeds of schedules and of others, and revoke any")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(schedule__isnull=True, user__isnull=False)
                | Q(schedule__isnull=False, user__isnull=True),
                name="feed_token_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"Feed of {self.subject} (…{self.hint})"

    @property
    def subject(self) -> str:
        return str(self.schedule) if self.schedule_id else str(self.user)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class HandoffNotice(models.Model):
    """That one person was told of one hand-off: written once (the unique constraint), so two
    reconciler ticks never notify twice."""

    class Role(models.TextChoices):
        INCOMING = "incoming", "Coming on call"
        OUTGOING = "outgoing", "Going off call"

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="handoff_notices")
    shift_start = models.DateTimeField(help_text="The hand-off instant.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices)
    open_incidents = models.PositiveIntegerField(default=0)
    notified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-shift_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "shift_start", "user"], name="handoff_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display().lower()} on {self.layer}"
