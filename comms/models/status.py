from django.db import models


class Subscriber(models.Model):
    """Someone who follows the status page: an e-mail address (double opt-in) or a webhook,
    for every public component or the ones listed."""

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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "target"], name="subscriber_once"),
        ]

    def __str__(self) -> str:
        return self.target
