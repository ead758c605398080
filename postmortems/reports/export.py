"""CSV downloads of a report: the figures (one row each, with its definition) and the
incident rows the figures count (the period's real incidents, with their durations)."""

from __future__ import annotations

import csv
import io

from django.db.models import Prefetch

from incidents.models import IncidentService
from ircore.spreadsheet import safe_cell

from ..durations import DURATIONS
from .build import Report, real_in
from .definitions import definitions
from .periods import Period
from .serialize import report_dict

FIGURES_HEADER = ["figure", "breakdown", "value", "definition"]
INCIDENTS_HEADER = [
    "reference",
    "title",
    "severity",
    "type",
    "services",
    "impact_started_at",
    "detected_at",
    "declared_at",
    "acknowledged_at",
    "resolved_at",
    *[f"{d.key}_seconds" for d in DURATIONS],
    "cost",
]


def figures_csv(report: Report) -> str:
    data, texts = report_dict(report), definitions()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIGURES_HEADER)

    def row(figure, breakdown, value, definition=""):
        shown = "" if value is None else value
        writer.writerow([figure, safe_cell(str(breakdown)), shown, definition])

    row("period", report.period.key, report.period.label, texts["period"])
    row("total", "", data["total"], texts["total"])
    row("previous_total", report.period.previous.key, data["previous_total"])
    row("drills_excluded", "", data["drills_excluded"], texts["drills_excluded"])
    for key in ("mttd", "mtta", "mttr"):
        row(f"{key}_seconds", "all", data[f"{key}_seconds"], texts[key])
    for sev in data["by_severity"]:
        for name in ("count", "mttd_seconds", "mtta_seconds", "mttr_seconds"):
            row(name, sev["severity"], sev[name])
        row("acknowledged_within_target", sev["severity"], sev["acknowledged_within_target"])
        row("resolved_within_target", sev["severity"], sev["resolved_within_target"])
    for service in data["services"]:
        row("uptime_percent", service["service"], service["uptime_percent"], texts["uptime"])
    for name, rows in data["top"].items():
        for entry in rows:
            row(f"top_{name}", entry["key"] or entry["name"], entry["count"])
    row("repeat_incidents", "", data["repeats"]["incidents"], texts["repeats"])
    row("cost", "", data["cost"]["total"], texts["cost"])
    row("postmortems_due", "", data["postmortems"]["due"], texts["postmortems"])
    row("postmortems_on_time", "", data["postmortems"]["on_time"])
    row("action_items_completed", "", data["action_items"]["completed"], texts["action_items"])
    row(
        "action_items_overdue",
        data["action_items"]["overdue_as_of"],
        data["action_items"]["overdue"],
    )
    for audience, figures in data["cadence"].items():
        for name in ("due", "on_time", "late", "missed"):
            row(
                f"cadence_{name}",
                audience,
                figures[name],
                texts["cadence"] if name == "due" else "",
            )
    if data["oncall"]:
        row("oncall_hours", "", data["oncall"]["hours_on_call"], texts["oncall"])
        row("oncall_pages", "", data["oncall"]["pages"])
        row("oncall_out_of_hours_pages", "", data["oncall"]["out_of_hours_pages"])
    return out.getvalue()


def incidents_csv(period: Period) -> str:
    """The period's real incidents, oldest first: three queries (the incidents with their
    severity, type and cost; their affected services)."""
    incidents = (
        real_in(period)
        .select_related("severity", "incident_type", "cost")
        .prefetch_related(
            Prefetch(
                "affected",
                queryset=IncidentService.objects.select_related("service").order_by(
                    "service__slug"
                ),
            )
        )
        .order_by("declared_at", "id")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(INCIDENTS_HEADER)
    for incident in incidents:
        cost = getattr(incident, "cost", None)
        writer.writerow(
            [
                incident.reference,
                safe_cell(incident.title),
                incident.severity.key,
                incident.incident_type.key if incident.incident_type else "",
                " ".join(a.service.slug for a in incident.affected.all()),
                *[_iso(getattr(incident, f)) for f in INCIDENTS_HEADER[5:10]],
                *[_secs(d.of(incident)) for d in DURATIONS],
                f"{cost.total:.2f}" if cost is not None else "",
            ]
        )
    return out.getvalue()


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _secs(value) -> str:
    return "" if value is None else f"{value.total_seconds():g}"
