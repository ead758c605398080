"""A report as the API answers it (and as the CSV of the figures lists it): durations in
seconds (null where no incident has both times), money as strings, severities by key,
services and teams by slug."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from ..durations import mean_seconds
from .build import Report
from .definitions import definitions


def _seconds(value) -> float | None:
    return None if value is None else value.total_seconds()


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def report_dict(report: Report) -> dict[str, Any]:
    period = report.period
    key = "quarter" if period.is_quarter else "month"
    data: dict[str, Any] = {
        key: period.key,
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "time_zone": settings.TIME_ZONE,
            "complete": period.is_over(report.now),
        },
        "total": report.total,
        "previous_total": report.previous_total,
        "change": report.change,
        "drills_excluded": report.drills_excluded,
        "mttd_seconds": mean_seconds(report.mttd),
        "mtta_seconds": mean_seconds(report.mtta),
        "mttr_seconds": mean_seconds(report.mttr),
        "by_severity": [
            {
                "severity": row.key,
                "name": row.name,
                "count": row.count,
                "mttd_seconds": mean_seconds(row.mttd),
                "mtta_seconds": mean_seconds(row.mtta),
                "mttr_seconds": mean_seconds(row.mttr),
                "ack_target_seconds": _seconds(row.ack_target),
                "resolve_target_seconds": _seconds(row.resolve_target),
                "acknowledged": row.acknowledged,
                "acknowledged_within_target": row.acknowledged_within,
                "resolved": row.resolved,
                "resolved_within_target": row.resolved_within,
            }
            for row in report.by_severity
        ],
        "services": [
            {"service": row.service, "name": row.name, "uptime_percent": row.percent}
            for row in report.uptime
        ],
        "top": {
            name: [{"key": c.key, "name": c.name, "count": c.count} for c in rows]
            for name, rows in (
                ("types", report.types),
                ("services", report.services),
                ("teams", report.teams),
            )
        },
        "repeats": {
            "incidents": report.repeat_incidents,
            "groups": [
                {"service": r.service, "incident_type": r.incident_type, "count": r.count}
                for r in report.repeats
            ],
        },
        "cost": {"total": _money(report.cost), "assessed": report.costed},
        "postmortems": {
            "due": report.postmortems_due,
            "on_time": report.postmortems_on_time,
            "published": report.postmortems_published,
        },
        "action_items": {
            "completed": report.actions_completed,
            "wont_do": report.actions_wont_do,
            "overdue": report.actions_overdue,
            "overdue_as_of": report.actions_as_of.isoformat() if report.actions_as_of else None,
        },
        "cadence": report.cadence,
        "oncall": _oncall(report),
        "definitions": definitions(),
    }
    return data


def _oncall(report: Report) -> dict[str, Any] | None:
    load = report.oncall
    if load is None:
        return None
    return {
        "hours_on_call": _money(load.hours),
        "pages": load.pages,
        "out_of_hours_pages": load.out_of_hours,
        "teams": [
            {
                "team": row.team.slug,
                "hours_on_call": _money(row.hours),
                "pages": row.pages,
                "out_of_hours_pages": row.out_of_hours,
                "incidents": row.incidents,
            }
            for row in load.teams
        ],
    }
