"""The report's figures in words, for the page's cells, the CSV and the monthly e-mail."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal


def duration(seconds: float | timedelta | None) -> str:
    """``1 h 05 min``, ``12 min 30 s``, ``45 s``; a dash for no figure."""
    if seconds is None:
        return "–"
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    total = round(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
    return f"{secs} s"


def share(part: int, whole: int) -> str:
    """``3 of 4 (75%)``; ``0 of 0`` with no percentage."""
    if not whole:
        return f"{part} of {whole}"
    return f"{part} of {whole} ({round(100 * part / whole)}%)"


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def change(report) -> str:
    """``+2 (+50.0%) on March 2025``; the percentage left out after an empty period."""
    sign = "+" if report.change > 0 else ""
    pct = report.change_percent
    shown = f"{sign}{report.change}" + (f" ({sign}{pct}%)" if pct is not None else "")
    return f"{shown} on {report.period.previous.label}"


def summary_lines(report) -> list[str]:
    """The e-mail's body: the headline figures, one per line."""
    lines = [
        f"Incident report for {report.period.label}",
        "",
        f"Incidents: {report.total} ({change(report)}); drills left out: {report.drills_excluded}",
        f"MTTD {duration(report.mttd)}, MTTA {duration(report.mtta)}, MTTR {duration(report.mttr)}",
    ]
    for row in report.by_severity:
        lines.append(
            f"  {row.key}: {row.count} incidents; MTTA {duration(row.mtta)} "
            f"(target {duration(row.ack_target)}), MTTR {duration(row.mttr)} "
            f"(target {duration(row.resolve_target)})"
        )
    lines += [
        f"Repeat incidents: {report.repeat_incidents}",
        f"Cost of incidents: {money(report.cost)}",
        "Postmortems on time: " + share(report.postmortems_on_time, report.postmortems_due),
        f"Action items completed: {report.actions_completed}; overdue: {report.actions_overdue}",
    ]
    for audience, figures in report.cadence.items():
        lines.append(f"Cadence kept ({audience}): {share(figures['on_time'], figures['due'])}")
    for row in report.uptime:
        shown = "–" if row.percent is None else f"{row.percent:.3f}%"
        lines.append(f"Uptime {row.name}: {shown}")
    return lines
