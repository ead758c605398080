"""The reports section of ``manage.py bench``: it runs on top of the incidents section and
its measurements cost the same queries at both sizes."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from ircore.bench import registry
from postmortems import bench as reports_bench  # noqa: F401  (registers the section)


@pytest.mark.django_db
def test_the_report_measurements_keep_their_query_count(monkeypatch):
    registry.sections()  # every app's section registered
    chosen = {name: registry._registry[name] for name in ("incidents", "reports")}
    monkeypatch.setattr(registry, "_registry", chosen)
    out = StringIO()
    call_command(
        "bench", "--small", "60", "--large", "240", "--pages", "1", "--json",
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    report = json.loads(out.getvalue())
    rows = {row["measurement"]: row for row in report["sections"]["reports"]}
    assert set(rows) == {
        "monthly report API",
        "monthly report page (admin)",
        "quarterly report API",
        "12-month trend chart (SVG)",
        "/metrics scrape",
    }
    for name, row in rows.items():
        assert row["same_query_count"], (name, row["queries"])
    counts = report["row_counts"]["large"]
    assert counts["postmortems.Postmortem"] == 240 // 5
    assert counts["postmortems.CostAssessment"] == 240 // 4
