"""The policy kernel: severities, incident types, checklists, thresholds; the catalog
(teams, services); people; and the notification delivery log.

Policy is data: everything here is edited in the admin and moved between installs as
one policy file (``manage.py policy export/import``).
"""

from datetime import UTC, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator, validate_email
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #d32f2f.")


class Severity(models.Model):
    """A severity level and its targets (SEV-1..4, P0..P3, whatever the policy says)."""

    key = models.CharField(max_length=20, unique=True, help_text="Short label, e.g. SEV-1 or P0.")
    rank = models.PositiveSmallIntegerField(
        unique=True, help_text="1 is the most severe; higher numbers are less severe."
    )
    name = models.CharField(max_length=60, help_text="e.g. Critical")
    definition = models.TextField(blank=True)
    examples = models.TextField(blank=True, help_text="One example per line.")
    colour = models.CharField(max_length=7, default="#757575", validators=[hex_colour])
    ack_target = models.DurationField(null=True, blank=True, help_text="Time to acknowledge.")
    resolve_target = models.DurationField(null=True, blank=True, help_text="Time to resolve.")
    internal_update_every = models.DurationField(
        null=True, blank=True, help_text="Cadence of internal status updates."
    )
    customer_update_every = models.DurationField(
        null=True, blank=True, help_text="Cadence of customer updates (blank: no cadence)."
    )
    postmortem_required = models.BooleanField(default=False)
    postmortem_due = models.DurationField(
        null=True, blank=True, help_text="Postmortem deadline after resolution."
    )
    page_immediately = models.BooleanField(default=False, help_text="Page the on-call at once.")
    who_is_paged = models.CharField(
        max_length=200, blank=True, help_text="Who responds, e.g. 'All leads immediately'."
    )
    executive_sponsor_required = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["rank"]
        verbose_name_plural = "severities"
        # Importing replaces the whole policy (types and thresholds too), so it is its own
        # permission rather than change_severity.
        permissions = [("import_policy", "Can import the policy file")]

    def __str__(self) -> str:
        return f"{self.key} {self.name}"


class IncidentType(models.Model):
    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    regulatory_notification_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Regulators must be told within this many hours of detection (GDPR: 72).",
    )
    security_checkpoints = models.BooleanField(
        default=False,
        help_text="Track evidence-preserved and credentials-rotated checkpoints.",
    )
    legal_review_required = models.BooleanField(
        default=False,
        help_text="Notices about such incidents need a legal reviewer's approval before they "
        "are published (data loss, security, privacy).",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def regulatory_notification_required(self) -> bool:
        return self.regulatory_notification_hours is not None


class ChecklistTemplateItem(models.Model):
    """One line of a severity's checklist; incidents copy these on declaration."""

    severity = models.ForeignKey(Severity, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    history = HistoricalRecords()

    class Meta:
        ordering = ["severity__rank", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["severity", "text"], name="checklist_item_unique_text_per_severity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.severity.key}: {self.text}"


class FinancialThreshold(models.Model):
    """Crossing ``amount`` of estimated impact notifies the audience (once per incident)."""

    amount = models.DecimalField(
        max_digits=14, decimal_places=2, unique=True, validators=[MinValueValidator(Decimal("0"))]
    )
    audience = models.CharField(
        max_length=200, help_text="Who must be notified, in words: e.g. 'CFO', 'Board'."
    )
    notify_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="financial_thresholds"
    )
    notify_emails = models.TextField(
        blank=True, help_text="Extra addresses, one per line (e.g. a finance distribution list)."
    )
    history = HistoricalRecords(m2m_fields=[notify_users])

    class Meta:
        ordering = ["amount"]

    def __str__(self) -> str:
        return f"{self.amount:,.0f}: {self.audience}"

    @property
    def email_list(self) -> list[str]:
        return [line.strip() for line in self.notify_emails.splitlines() if line.strip()]


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    chat_channel = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    history = HistoricalRecords(m2m_fields=[members])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    class Tier(models.IntegerChoices):
        CRITICAL = 1, "Tier 1 (critical)"
        IMPORTANT = 2, "Tier 2 (important)"
        SUPPORTING = 3, "Tier 3 (supporting)"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.IMPORTANT)
    description = models.TextField(blank=True)
    public = models.BooleanField(default=False, help_text="Shown on the public status page.")
    public_name = models.CharField(
        max_length=100, blank=True, help_text="Name on the status page (defaults to the name)."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_public_name(self) -> str:
        return self.public_name or self.name


class Profile(models.Model):
    """What the incident process needs to know about a person, beside Django's user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    phone = models.CharField(max_length=32, blank=True)
    chat_handle = models.CharField(max_length=64, blank=True, help_text="e.g. @alice")
    time_zone = models.CharField(max_length=64, default="UTC")
    ic_certified_on = models.DateField(null=True, blank=True)
    ic_certification_expires = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @staticmethod
    def today():
        """The UTC day certification is judged on."""
        return timezone.now().astimezone(UTC).date()

    @staticmethod
    def certified_q(on) -> models.Q:
        """The SQL form of ``ic_certified(on)``, for lists and pickers."""
        return models.Q(ic_certified_on__isnull=False, ic_certified_on__lte=on) & (
            models.Q(ic_certification_expires__isnull=True)
            | models.Q(ic_certification_expires__gte=on)
        )

    def ic_certified(self, on=None) -> bool:
        """Certified on the given day (UTC today by default): certified on or before it and
        not expired by then. Days are UTC days, so the answer does not depend on whose zone
        is active."""
        if self.ic_certified_on is None:
            return False
        on = on or self.today()
        if self.ic_certified_on > on:
            return False
        return self.ic_certification_expires is None or self.ic_certification_expires >= on


class Heartbeat(models.Model):
    """Last time each periodic job ran, so /healthz can say the clock is alive."""

    name = models.CharField(max_length=100, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"

    @property
    def stale(self) -> bool:
        return timezone.now() - self.last_seen > timedelta(minutes=3)


class DemoMarker(models.Model):
    """That demo data was loaded into this database, once: bootstrap never loads it twice, and
    demo rows someone deleted do not come back."""

    name = models.CharField(max_length=100, unique=True)
    loaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} loaded {self.loaded_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


class NotificationEndpoint(models.Model):
    """A place messages can be sent that is not a person: a team channel, a webhook."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        CHAT = "chat", "Chat webhook (Slack-compatible)"
        WEBHOOK = "webhook", "Generic JSON webhook"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(max_length=500, help_text="Email address or https URL.")
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        problem = self.target_problem(self.kind, self.target)
        if problem:
            raise ValidationError({"target": problem})

    @classmethod
    def target_problem(cls, kind: str, target: str) -> str:
        """Why ``target`` cannot receive ``kind`` messages ('' if it can)."""
        target = (target or "").strip()
        if not target:
            return "The target is empty."
        if kind == cls.Kind.EMAIL:
            try:
                validate_email(target)
            except ValidationError:
                return f"{target!r} is not a valid email address."
            return ""
        # Only http(s): urllib would also open file:// and ftp:// URLs, which a webhook must not.
        url = urlsplit(target)
        if url.scheme not in ("http", "https") or not url.netloc:
            return f"{target!r} is not an http(s) URL."
        return ""


class Delivery(models.Model):
    """One message to one target over one channel, with its fate. Nothing is lost silently:
    a failure records the reason and schedules a retry with backoff until attempts run out."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Failed, will retry"
        FAILED = "failed", "Failed"

    channel = models.CharField(max_length=10, choices=NotificationEndpoint.Kind.choices)
    target = models.CharField(max_length=500)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    endpoint = models.ForeignKey(
        NotificationEndpoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    subject = models.CharField(max_length=300)
    body = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    # What the message is about, e.g. "incidents.incident:42", for the incident's page.
    topic = models.CharField(max_length=100, blank=True, db_index=True)
    # Same key twice means the same message: the second send is a no-op.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        permissions = [("retry_delivery", "Can retry a failed delivery")]
        indexes = [
            # Used by the send_due_deliveries reconciler: queued/retrying rows due now.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=models.Q(status__in=["queued", "retrying"]),
            ),
            # Used by the admin delivery log: newest first, a page at a time, at any size.
            models.Index(fields=["-created_at", "-id"], name="delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.shown_target}: {self.subject}"

    @property
    def shown_target(self) -> str:
        """The target as anyone may see it: an address or handle in full, a URL by its host
        only, since a webhook URL is itself the credential to post to it."""
        if "://" not in self.target:
            return self.target
        scheme, _, rest = self.target.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}/…"
