from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class SubscriberQuerySet(models.QuerySet):
    def active(self):
        """Confirmed (double opt-in done) and not unsubscribed: the only ones ever sent to."""
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)

    def following(self, service_ids):
        """Those who follow any of ``service_ids``, or every component."""
        return self.filter(Q(all_components=True) | Q(components__in=list(service_ids))).distinct()


class Subscriber(models.Model):
    """Someone who follows the status page: an e-mail address (double opt-in) or a webhook,
    for every public component or the ones listed.

    A row exists from the first request (pending: ``confirmed_at`` empty) so that repeated
    requests for one target share it; the components it follows are set when a confirmation
    link is used (the link carries the choice), never by the public form itself, so nobody
    can change another person's subscription without their mailbox.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    target = models.CharField(max_length=500, help_text="E-mail address or https URL.")
    all_components = models.BooleanField(default=True)
    components = models.ManyToManyField("ircore.Service", blank=True, related_name="subscribers")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # When a confirmation was last sent to the target: one per cooldown at most, whoever asks
    # and from however many addresses (the form must not be a way to flood a mailbox).
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["confirmation_sent_at"])

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "target"], name="subscriber_once"),
        ]
        indexes = [
            # fan_out: the active subscribers of every component.
            models.Index(
                fields=["all_components"],
                condition=Q(confirmed_at__isnull=False, unsubscribed_at__isnull=True),
                name="subscriber_active_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.target

    @property
    def state(self) -> str:
        if self.unsubscribed_at:
            return "unsubscribed"
        return "confirmed" if self.confirmed_at else "pending"
