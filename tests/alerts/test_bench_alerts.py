"""The alerts section of ``manage.py bench`` at a tiny size: the rows it reports (one new
event, a repeat, a batch through the view, the bare insert) cost the same queries with few
and with more open alerts, and the live-server figures (single events and batches through
a real server in this process, the bare insert of the same rows) are taken and printed.
The bench works in a database of its own and leaves the test's as it was."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from incidents import bench as _incidents_bench  # noqa: F401  (registers before the patch)
from incidents import bench_alerts
from incidents.alerts.models import Alert
from ircore.bench import registry

MEASUREMENTS = [
    "events v2: one new event (view)",
    "events v2: one repeat (view)",
    "alertmanager: 5 new alerts in one post (view)",
    "bare bulk insert of the same 5 alert rows",
]


@pytest.mark.django_db
def test_the_alerts_section_at_a_tiny_size(monkeypatch, capsys):
    section = registry._registry["alerts"]
    monkeypatch.setattr(registry, "_registry", {section.name: section})
    out, err = StringIO(), StringIO()

    call_command("bench", "--small", "5", "--large", "12", "--pages", "1", "--json",
                 stdout=out, stderr=err)  # fmt: skip

    report = json.loads(out.getvalue())
    rows = report["sections"]["alerts"]
    assert [row["measurement"] for row in rows] == MEASUREMENTS
    for row in rows:
        # The query count per alert does not grow with the open alerts (5, then 12).
        assert row["same_query_count"], row
        assert row["queries"]["small"] > 0
    counts = report["row_counts"]
    assert counts["large"]["incidents.Alert"] > counts["small"]["incidents.Alert"] >= 5

    printed = capsys.readouterr().err
    assert "[alerts] ingestion through a live server" in printed
    assert "single events (events v2): 10 at" in printed
    assert "Alertmanager batches: 4 x 5 at" in printed and "ratio" in printed
    assert "CPU per single event: median" in printed
    # Nothing of it is in the test's database.
    assert not Alert.objects.exists()


def test_the_live_figures_render_targets_honestly():
    figures = {
        "vendor": "postgresql",
        "clients": 4,
        "singles": 400,
        "single_per_second": 80.0,
        "single_median_ms": 12.5,
        "batch_size": 1000,
        "batches": 4,
        "batch_per_second": 2000.0,
        "bare_per_second": 20000.0,
        "batch_ratio": 10.0,
        "handler_cpu_median_ms": 6.25,
        "worker_cpu_per_event_ms": 7.5,
        "database_cpu_per_event_ms": 1.5,
    }

    text = bench_alerts.render_live(figures)

    assert "80 events/s (target >= 100: MISSED)" in text
    assert "median server time 12.5 ms (target < 10 ms: MISSED)" in text
    assert "ratio 10.0x (target <= 5x: MISSED)" in text
    assert (
        "CPU per single event: median 6.2 ms in the handler (worker process); flat out, in "
        "all: worker 7.5 ms + PostgreSQL backend 1.5 ms = 9.0 ms"
    ) in text
    no_proc = {**figures, "worker_cpu_per_event_ms": None, "database_cpu_per_event_ms": None}
    assert "CPU per single event: median 6.2 ms in the handler (worker process)\n" in (
        bench_alerts.render_live(no_proc)
    )
    good = {**figures, "single_per_second": 150.0, "single_median_ms": 4.0, "batch_ratio": 3.0}
    assert bench_alerts.render_live(good).count(": met") == 3
