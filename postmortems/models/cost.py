from django.db import models
from simple_history.models import HistoricalRecords


class CostAssessment(models.Model):
    """The financial impact of one incident: direct, indirect and recovery costs adding up to
    ``total`` (kept in the row so the reports sum it in SQL)."""

    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, related_name="cost"
    )
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Cost of {self.incident}"
