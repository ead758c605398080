"""The reports' charts, drawn on the server by matplotlib as SVG: a 12-month trend, the
severity mix, uptime per service. The pages show them as ``<img>`` (no JavaScript, printable,
and the page's Content-Security-Policy needs no exception); every figure a chart shows is in
a table beside it too.

matplotlib is imported on the first chart only (it costs about two seconds: numpy and the
font list), with the Agg backend and the object-oriented API (``Figure``, no ``pyplot``:
no global state shared between the web process's threads). Its cache (the font list, built
once) lives in ``MPLCONFIGDIR``, by default ``VAR_DIR/matplotlib``, so a read-only or
missing home directory costs no rebuild on every start. Text is kept as SVG text (not
paths), the drawing is deterministic (no date, fixed ids) and small.
"""

from __future__ import annotations

import io
import os
import threading
from typing import Any

from django.conf import settings

from .build import Report
from .trend import Trend

_lock = threading.Lock()
_loaded: dict[str, Any] = {}

WIDTH, HEIGHT = 8.0, 3.2  # inches, at 72 points per inch in the SVG
QUIET = "#666666"


def _matplotlib():
    """(Figure, matplotlib) after a one-time, thread-safe setup."""
    with _lock:
        if not _loaded:
            os.environ.setdefault("MPLCONFIGDIR", str(settings.VAR_DIR / "matplotlib"))
            import matplotlib

            matplotlib.use("Agg")
            from matplotlib.figure import Figure

            matplotlib.rcParams.update(
                {
                    "svg.fonttype": "none",  # text stays text: smaller, selectable, printable
                    "svg.hashsalt": "incident-reports",  # stable element ids
                    "font.family": ["DejaVu Sans", "sans-serif"],
                    "font.size": 9,
                    "axes.spines.top": False,
                    "axes.spines.right": False,
                }
            )
            _loaded.update(Figure=Figure, matplotlib=matplotlib)
    return _loaded["Figure"], _loaded["matplotlib"]


def _svg(figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return out.getvalue()


def _figure(height: float = HEIGHT):
    Figure, _ = _matplotlib()
    return Figure(figsize=(WIDTH, height))


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", color=QUIET, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def trend_svg(trend: Trend) -> bytes:
    """Incidents per month stacked by severity (bars), MTTR in hours (line, right axis)."""
    figure = _figure()
    ax = figure.add_subplot()
    labels = [m.period.first.strftime("%b %y") for m in trend.months]
    positions = list(range(len(labels)))
    bottom = [0] * len(labels)
    for severity in trend.severities:
        counts = [m.counts.get(severity.key, 0) for m in trend.months]
        if any(counts):
            ax.bar(positions, counts, bottom=bottom, color=severity.colour, label=severity.key)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_xticks(positions, labels)
    ax.set_ylabel("Incidents")
    ax.yaxis.get_major_locator().set_params(integer=True)
    if any(bottom):
        # Below the months, so it never covers a bar.
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            frameon=False,
            ncols=max(1, min(6, len(trend.severities))),
        )
    hours = [None if m.mttr is None else m.mttr / 3600 for m in trend.months]
    if any(h is not None for h in hours):
        right = ax.twinx()
        shown = [(p, h) for p, h in zip(positions, hours, strict=True) if h is not None]
        right.plot([p for p, _ in shown], [h for _, h in shown], color="#222222", marker="o")
        right.set_ylabel("MTTR (hours)")
        right.set_ylim(bottom=0)
        right.spines["right"].set_visible(True)
    ax.set_title("Incidents per month, and MTTR", loc="left")
    return _svg(figure)


def severity_svg(report: Report) -> bytes:
    """The period's incidents per severity (horizontal bars in each severity's colour)."""
    figure = _figure(max(1.6, 0.45 * len(report.by_severity) + 0.8))
    ax = figure.add_subplot()
    rows = list(reversed(report.by_severity))  # the most severe on top
    if not any(r.count for r in rows):
        _empty(ax, f"No incidents in {report.period.label}")
    else:
        bars = ax.barh(
            [r.key for r in rows], [r.count for r in rows], color=[r.colour for r in rows]
        )
        ax.bar_label(bars, padding=3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("Incidents")
    ax.set_title(f"Severity mix, {report.period.label}", loc="left")
    return _svg(figure)


def uptime_svg(report: Report) -> bytes:
    """Uptime per public service, as a percentage (axis from the lowest figure down a little,
    so 99.5% and 99.9% do not look the same)."""
    rows = list(reversed(report.uptime))
    figure = _figure(max(1.6, 0.4 * len(rows) + 0.8))
    ax = figure.add_subplot()
    known = [r for r in rows if r.percent is not None]
    if not known:
        _empty(ax, "No uptime figures for this period")
    else:
        values = [r.percent if r.percent is not None else 0 for r in rows]
        low = min(r.percent for r in known)
        floor = max(0.0, min(99.0, low - (100 - low) * 0.5))
        bars = ax.barh([r.name for r in rows], values, color="#2e7d32")
        ax.bar_label(bars, labels=[_pct(r.percent) for r in rows], padding=3)
        ax.set_xlim(floor, 100)
        ax.set_xlabel("Uptime (%)")
    ax.set_title(f"Uptime of public services, {report.period.label}", loc="left")
    return _svg(figure)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}%"


CHARTS = ("trend", "severity", "uptime")
