from django.db import models


class Audience(models.TextChoices):
    """Whom a template or a notice speaks to."""

    INTERNAL = "internal", "Internal"
    CUSTOMERS = "customers", "Customers"
    EXECUTIVES = "executives", "Executives"
