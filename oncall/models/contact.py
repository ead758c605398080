"""How each person is reached when paged: their contact methods, their notification rules
(which method, how long after the page), and the attempts a page makes along those rules.

A person with no rules is e-mailed at once at their account address (``page_notify``).
"""

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ircore.models import Delivery, NotificationEndpoint
from ircore.policy import format_duration
from ircore.validators import DurationBoundsValidator, plain_text_problem

# A chat handle as people write it in Slack, Mattermost or Zulip: "@alice", "@alice.smith".
CHAT_HANDLE = re.compile(r"^@?[\w][\w.\-]{0,62}$")
TARGET_MAX = 500
RULE_DELAY_MAX = timedelta(hours=24)


class ContactMethod(models.Model):
    """One way to reach one person: an e-mail address, a chat handle (mentioned through the
    install's chat webhook), or a webhook (an SMS or phone gateway is a webhook)."""

    Kind = NotificationEndpoint.Kind

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(
        max_length=TARGET_MAX,
        help_text="An e-mail address, a chat handle (@alice) or an https URL.",
    )
    label = models.CharField(max_length=100, blank=True, help_text="e.g. work phone (SMS)")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["user_id", "kind", "id"]
        permissions = [
            ("manage_contactmethod", "Can edit anyone's contact methods and notification rules")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "target"], name="contactmethod_unique_per_user"
            )
        ]

    def __str__(self) -> str:
        label = f" ({self.label})" if self.label else ""
        return f"{self.get_kind_display()}: {self.shown_target}{label}"

    @property
    def shown_target(self) -> str:
        """A webhook by its host only: the URL itself is the credential to post to it."""
        if self.kind == self.Kind.WEBHOOK and "://" in self.target:
            scheme, _, rest = self.target.partition("://")
            return f"{scheme}://{rest.split('/', 1)[0]}/…"
        return self.target

    @classmethod
    def target_problem(cls, kind: str, target: object) -> str:
        """Why ``target`` cannot be a ``kind`` contact method ('' if it can)."""
        problem = plain_text_problem(target, max_length=TARGET_MAX)
        if problem:
            return problem
        target = target.strip()
        if kind not in cls.Kind.values:
            return f"Choose one of: {', '.join(cls.Kind.values)}."
        if not target:
            return "This cannot be empty."
        if kind == cls.Kind.EMAIL:
            return NotificationEndpoint.target_problem(kind, target)
        if kind == cls.Kind.CHAT:
            if not CHAT_HANDLE.match(target):
                return f"{target!r} is not a chat handle (such as @alice)."
            return ""
        # A webhook carries the page (and the acknowledge link) off this install: https only.
        problem = NotificationEndpoint.target_problem(kind, target)
        if problem:
            return problem
        if not target.lower().startswith("https://"):
            return "A webhook must be an https URL."
        return ""

    def clean(self) -> None:
        problem = self.target_problem(self.kind, self.target)
        if problem:
            raise ValidationError({"target": problem})


class NotificationRule(models.Model):
    """A person's "reach me on this method this long after I am paged" (0: at once)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules"
    )
    contact_method = models.ForeignKey(
        ContactMethod, on_delete=models.CASCADE, related_name="rules"
    )
    delay = models.DurationField(
        default=timedelta(0),
        validators=[DurationBoundsValidator(timedelta(0), RULE_DELAY_MAX)],
        help_text="After the page: 0 for at once, e.g. 00:02:00 for two minutes.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["user_id", "delay", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact_method", "delay"], name="notificationrule_unique_delay"
            ),
            models.CheckConstraint(
                condition=models.Q(delay__gte=timedelta(0)), name="notificationrule_delay_gte_0"
            ),
        ]

    def __str__(self) -> str:
        when = "at once" if not self.delay else f"after {format_duration(self.delay)}"
        return f"{self.contact_method} {when}"

    def clean(self) -> None:
        if self.contact_method_id and self.user_id and self.contact_method.user_id != self.user_id:
            raise ValidationError({"contact_method": "Choose one of this person's own methods."})


class PageAttemptQuerySet(models.QuerySet):
    def due(self, now):
        """Attempts whose time has come and that were neither sent nor stopped; uses
        ``pageattempt_due_idx``."""
        return self.filter(due_at__isnull=False, due_at__lte=now)


class PageAttempt(models.Model):
    """One message of one page along one of the recipient's rules (``rule`` null: the
    default e-mail of a person with no rules). ``kind``/``target`` are a snapshot, so a rule
    edited later does not change what a page did. ``due_at`` is null once sent or stopped."""

    page = models.ForeignKey("oncall.Page", on_delete=models.CASCADE, related_name="attempts")
    rule = models.ForeignKey(
        NotificationRule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attempts",
    )
    kind = models.CharField(max_length=10, choices=ContactMethod.Kind.choices)
    target = models.CharField(max_length=TARGET_MAX, blank=True)
    delay = models.DurationField(default=timedelta(0))
    due_at = models.DateTimeField(null=True, blank=True)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="page_attempts"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PageAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["page_id", "delay", "id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "rule"], name="pageattempt_unique_rule"),
        ]
        indexes = [
            # Used by page_attempts_send_due: the attempts due now, whatever the history's size.
            models.Index(
                fields=["due_at"],
                name="pageattempt_due_idx",
                condition=models.Q(due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.page} by {self.get_kind_display()} (+{format_duration(self.delay)})"

    @property
    def state(self) -> str:
        if self.sent_at:
            return "sent"
        if self.stopped_at:
            return "stopped"
        return "pending"
