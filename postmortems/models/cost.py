"""The cost of an incident: 003_*'s "Financial Impact Tracking Template" (direct costs,
indirect costs, recovery investment), one line each, adding up to ``CostAssessment.total``.

Where the figures the pre-fill uses live:

- ``CostRates`` (the policy file's ``cost`` section): the hourly cost of a responder and the
  weight of each incident role (and of being paged without one). The same numbers price
  every incident, so they are the process's policy, reviewed and moved with it.
- ``ServiceCost``: each service's revenue per minute and SLA credit. They belong to this
  install's catalog of services, which the policy file does not carry (integrations and
  escalation keep to that too), and money is the learning layer's concern, so they live
  here, one to one with ircore's ``Service``, rather than on it.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

MONEY = {"max_digits": 14, "decimal_places": 2}
WEIGHT = {"max_digits": 5, "decimal_places": 2}


class CostRates(models.Model):
    """What an hour of a responder costs, weighted by the role they held. One row (the policy
    file's ``cost`` section has one entry); with none, labour is not priced."""

    name = models.CharField(max_length=100, unique=True)
    hourly_cost = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    paged_weight = models.DecimalField(
        **WEIGHT,
        default=Decimal(1),
        validators=[MinValueValidator(0)],
        help_text="Weight of an hour paged without holding a role.",
    )
    # {role value of incidents' RoleAssignment.Role: weight}; a role left out weighs 1.
    role_weights = models.JSONField(default=dict, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "cost rates"
        verbose_name_plural = "cost rates"
        constraints = [
            models.CheckConstraint(condition=Q(hourly_cost__gte=0), name="cost_rates_hourly_gte_0"),
            models.CheckConstraint(condition=Q(paged_weight__gte=0), name="cost_rates_paged_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name

    def weight_of(self, role: str) -> Decimal:
        return Decimal(str(self.role_weights.get(role, 1)))


class ServiceCost(models.Model):
    """A service's money figures: revenue at risk per minute of outage, and the SLA credit owed
    for an incident whose outage outlasts ``sla_credit_after``."""

    service = models.OneToOneField(
        "ircore.Service", on_delete=models.CASCADE, related_name="cost_figures"
    )
    revenue_per_minute = models.DecimalField(
        **MONEY, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    sla_credit = models.DecimalField(
        **MONEY,
        default=Decimal(0),
        validators=[MinValueValidator(0)],
        help_text="Owed to customers per incident whose outage outlasts the grace below.",
    )
    sla_credit_after = models.DurationField(
        null=True, blank=True, help_text="Grace before a credit is owed (empty: any outage)."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["service__name"]
        verbose_name = "service cost figures"
        verbose_name_plural = "service cost figures"
        constraints = [
            models.CheckConstraint(
                condition=Q(revenue_per_minute__gte=0) & Q(sla_credit__gte=0),
                name="service_cost_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Cost figures of {self.service}"


class CostAssessment(models.Model):
    """The financial impact of one incident: direct, indirect and recovery costs adding up to
    ``total`` (kept in the row so the reports sum it in SQL)."""

    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, related_name="cost"
    )
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    prefilled_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Cost of {self.incident}"


class CostLine(models.Model):
    """One line of the template. ``prefilled`` is what the tool worked out (None: it knows
    nothing of it), ``amount`` what a person set (None: not adjusted); the line counts
    ``amount`` if set, else ``prefilled``. History keeps every change of either."""

    class Category(models.TextChoices):
        DIRECT = "direct", "Direct costs"
        INDIRECT = "indirect", "Indirect costs"
        RECOVERY = "recovery", "Recovery investment"

    class Key(models.TextChoices):
        ENGINEERING_TIME = "engineering_time", "Engineering time"
        VENDOR_SUPPORT = "vendor_support", "Vendor support fees"
        INFRASTRUCTURE = "infrastructure", "Infrastructure costs"
        THIRD_PARTY = "third_party", "Third-party services"
        LOST_REVENUE = "lost_revenue", "Lost revenue"
        SLA_PENALTIES = "sla_penalties", "SLA penalties"
        CUSTOMER_RETENTION = "customer_retention", "Customer retention"
        REPUTATION = "reputation", "Reputation impact (estimated)"
        PREVENTION = "prevention", "Prevention measures"
        MONITORING = "monitoring", "Monitoring improvements"
        PROCESS = "process", "Process updates"
        TRAINING = "training", "Training costs"

    assessment = models.ForeignKey(CostAssessment, on_delete=models.CASCADE, related_name="lines")
    key = models.CharField(max_length=20, choices=Key.choices)
    category = models.CharField(max_length=10, choices=Category.choices)
    position = models.PositiveSmallIntegerField(default=0)
    prefilled = models.DecimalField(**MONEY, null=True, blank=True)
    basis = models.TextField(blank=True, help_text="How the pre-filled figure was worked out.")
    amount = models.DecimalField(**MONEY, null=True, blank=True, verbose_name="adjusted")
    note = models.CharField(max_length=300, blank=True, help_text="Why it was adjusted.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["assessment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "key"], name="cost_line_once"),
            models.CheckConstraint(
                condition=(Q(amount__isnull=True) | Q(amount__gte=0))
                & (Q(prefilled__isnull=True) | Q(prefilled__gte=0)),
                name="cost_line_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_key_display()}: {self.value}"

    @property
    def value(self) -> Decimal:
        """What the line counts in the total."""
        if self.amount is not None:
            return self.amount
        return self.prefilled if self.prefilled is not None else Decimal(0)

    @property
    def adjusted(self) -> bool:
        return self.amount is not None


# The template's lines in its order; the first of each category that the tool pre-fills:
# engineering time (labour), lost revenue (revenue at risk), SLA penalties (SLA credits).
LINES = (
    (CostLine.Key.ENGINEERING_TIME, CostLine.Category.DIRECT),
    (CostLine.Key.VENDOR_SUPPORT, CostLine.Category.DIRECT),
    (CostLine.Key.INFRASTRUCTURE, CostLine.Category.DIRECT),
    (CostLine.Key.THIRD_PARTY, CostLine.Category.DIRECT),
    (CostLine.Key.LOST_REVENUE, CostLine.Category.INDIRECT),
    (CostLine.Key.SLA_PENALTIES, CostLine.Category.INDIRECT),
    (CostLine.Key.CUSTOMER_RETENTION, CostLine.Category.INDIRECT),
    (CostLine.Key.REPUTATION, CostLine.Category.INDIRECT),
    (CostLine.Key.PREVENTION, CostLine.Category.RECOVERY),
    (CostLine.Key.MONITORING, CostLine.Category.RECOVERY),
    (CostLine.Key.PROCESS, CostLine.Category.RECOVERY),
    (CostLine.Key.TRAINING, CostLine.Category.RECOVERY),
)
PREFILLED = (
    CostLine.Key.ENGINEERING_TIME,
    CostLine.Key.LOST_REVENUE,
    CostLine.Key.SLA_PENALTIES,
)
