"""The reports section of ``manage.py bench`` (the framework is ``ircore.bench``): the monthly
report (API and admin page), the quarterly API, the 12-month trend chart and a /metrics
scrape, over the incidents section's incidents (spread over three years: about 28 a month at
1,000, 2,700 at 100,000) with postmortems, action items and cost assessments beside them.

The issue's target for the monthly report is a time ratio under 3 at 100,000 against 1,000
and the same query count; the framework's own ``RATIO_TARGET`` is stricter. /metrics counts
whole tables (counters since the beginning: plain counts), so its time grows a little with
history; its query count does not.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.urls import reverse

from incidents.models import Incident
from ircore.bench import Context, Measurement, Section, register

from .metrics import exposition
from .models import ActionItem, CostAssessment, Postmortem
from .reports.periods import month_containing, quarter_containing

CHUNK = 2000


def grow_reports(ctx: Context, start: int, stop: int) -> None:
    """For the incidents added since the last call (whichever section added them): a cost
    assessment for one in four, a postmortem for one in five (due two days after declaring,
    published on time for two in three), and an action item per postmortem (half done)."""
    rows = list(
        Incident.objects.filter(pk__gt=ctx.data.get("reports_last_incident", 0))
        .order_by("id")
        .values_list("pk", "declared_at")
    )
    if rows:
        ctx.data["reports_last_incident"] = rows[-1][0]
    for chunk in range(0, len(rows), CHUNK):
        part = list(enumerate(rows[chunk : chunk + CHUNK], start=start + chunk))
        with transaction.atomic():
            CostAssessment.objects.bulk_create(
                CostAssessment(incident_id=pk, total=Decimal(100 + i % 900))
                for i, (pk, _) in part
                if i % 4 == 0
            )
            postmortems = Postmortem.objects.bulk_create(
                Postmortem(
                    incident_id=pk,
                    opened_at=declared,
                    due_at=declared + timedelta(days=2),
                    published_at=declared + timedelta(days=1) if i % 3 else None,
                    status="published" if i % 3 else "draft",
                )
                for i, (pk, declared) in part
                if i % 5 == 0
            )
            ActionItem.objects.bulk_create(
                ActionItem(
                    postmortem=postmortem,
                    title="Bench follow-up",
                    kind=ActionItem.Kind.PREVENT,
                    due_on=(postmortem.opened_at + timedelta(days=14)).date(),
                    status="done" if n % 2 else "open",
                    evidence="Done." if n % 2 else "",
                    completed_at=postmortem.opened_at + timedelta(days=7) if n % 2 else None,
                )
                for n, postmortem in enumerate(postmortems)
            )


def report_measurements(ctx: Context) -> list[Measurement]:
    month = month_containing(ctx.now).previous
    quarter = quarter_containing(month.start)
    as_json = "application/json"
    page = reverse("admin:postmortems_report_monthly")
    chart = reverse("admin:postmortems_report_chart", args=["trend"])
    return [
        Measurement(
            "monthly report API", f"/api/v1/reports/monthly/?month={month.key}", accept=as_json
        ),
        Measurement("monthly report page (admin)", f"{page}?month={month.key}"),
        Measurement(
            "quarterly report API",
            f"/api/v1/reports/quarterly/?quarter={quarter.key}",
            accept=as_json,
        ),
        Measurement("12-month trend chart (SVG)", f"{chart}?month={month.key}"),
        Measurement("/metrics scrape", call=exposition),
    ]


register(
    Section(
        name="reports",
        grow=grow_reports,
        measurements=report_measurements,
        models=(Postmortem, ActionItem, CostAssessment),
    )
)
