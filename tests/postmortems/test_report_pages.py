"""The report as people and tools read it: the API's shape and refusals, the admin pages, the
charts (valid SVG, served as images under their own CSP), the CSV downloads, and who may
read them (Leadership and managers read; nobody changes anything through them)."""

import csv
import io
from xml.etree import ElementTree

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .test_report_history import (  # noqa: F401  (fixtures)
    NOW,
    history,
    make_history,
    paged,
    policy,
)

API = "/api/v1/reports/monthly/"
QAPI = "/api/v1/reports/quarterly/"
PAGE = "/admin/postmortems/reportmailing/monthly/"
QPAGE = "/admin/postmortems/reportmailing/quarterly/"
CHART = "/admin/postmortems/reportmailing/chart/{}.svg"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_api_answers_the_agreed_shape(client, cast, history):  # noqa: F811
    client.force_login(cast.leader)
    data = client.get(API, {"month": "2025-03"}).json()
    assert {"month", "total", "previous_total", "drills_excluded"} <= set(data)
    assert (data["month"], data["total"], data["previous_total"], data["drills_excluded"]) == (
        "2025-03",
        4,
        1,
        1,
    )
    one = data["by_severity"][0]
    assert {"severity", "count", "mttd_seconds", "mtta_seconds", "mttr_seconds"} <= set(one)
    assert (one["severity"], one["count"], one["mttd_seconds"], one["mtta_seconds"]) == (
        "SEV-1",
        2,
        900.0,
        1200.0,
    )
    assert (one["mttr_seconds"], one["resolve_target_seconds"]) == (14400.0, 14400.0)
    two = data["by_severity"][1]
    assert (two["severity"], two["mttd_seconds"], two["mttr_seconds"]) == ("SEV-2", None, None)
    assert [s["service"] for s in data["services"]] == ["api", "web"]
    assert all(isinstance(s["uptime_percent"], float) for s in data["services"])
    assert data["action_items"] == {
        "completed": 2,
        "wont_do": 1,
        "overdue": 1,
        "overdue_as_of": "2025-04-01",
    }
    assert data["postmortems"] == {"due": 3, "on_time": 1, "published": 2}
    assert data["cost"] == {"total": "1250.75", "assessed": 2}
    assert data["repeats"] == {
        "incidents": 2,
        "groups": [{"service": "api", "incident_type": "outage", "count": 2}],
    }
    assert data["cadence"]["internal"]["on_time"] == 1
    assert data["oncall"]["pages"] == 2
    assert data["period"]["time_zone"] == "UTC"
    assert "detected minus impact started" in data["definitions"]["mttd"]


def test_a_month_without_incidents_is_nulls_and_zeros(client, cast, policy):  # noqa: F811
    client.force_login(cast.manager)
    data = client.get(API, {"month": "2024-02"}).json()
    assert (data["total"], data["previous_total"], data["drills_excluded"]) == (0, 0, 0)
    assert (data["mttd_seconds"], data["mtta_seconds"], data["mttr_seconds"]) == (None,) * 3
    assert [
        (r["severity"], r["count"], r["mttd_seconds"], r["mtta_seconds"], r["mttr_seconds"])
        for r in data["by_severity"]
    ] == [(key, 0, None, None, None) for key in ("SEV-1", "SEV-2", "SEV-3", "SEV-4")]
    assert data["action_items"]["completed"] == 0
    assert data["postmortems"] == {"due": 0, "on_time": 0, "published": 0}
    assert data["cost"]["total"] == "0.00"


@pytest.mark.parametrize(
    "value", ["2025-13", "2025-00", "March", "2025-3", "0001-01", "", "2025-03\x00"]
)
def test_a_bad_month_is_a_400_naming_the_field(client, cast, value):
    client.force_login(cast.leader)
    response = client.get(API, {"month": value})
    assert response.status_code == 400
    assert list(response.json()) == ["month"]


def test_no_month_at_all_is_a_400_too(client, cast):
    client.force_login(cast.leader)
    response = client.get(API)
    assert response.status_code == 400 and "YYYY-MM" in response.json()["month"][0]


def test_a_bad_quarter_names_its_field(client, cast):
    client.force_login(cast.leader)
    response = client.get(QAPI, {"quarter": "2025-Q5"})
    assert response.status_code == 400 and list(response.json()) == ["quarter"]


def test_leadership_and_managers_read_others_do_not(client, cast):
    for person, status in (
        (cast.leader, 200),
        (cast.manager, 200),
        (cast.responder, 403),
        (cast.support, 403),
    ):
        client.force_login(person)
        assert client.get(API, {"month": "2025-03"}).status_code == status, person
        assert client.get(PAGE, {"month": "2025-03"}).status_code == status, person
        assert client.get(CHART.format("trend"), {"month": "2025-03"}).status_code == status
    client.logout()
    assert client.get(API, {"month": "2025-03"}).status_code in (401, 403)
    assert client.get(PAGE).status_code == 302  # to the admin login
    assert client.get(CHART.format("severity")).status_code == 302


def test_leadership_reads_but_cannot_change(client, cast):
    client.force_login(cast.leader)
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(f"{API}?month=2025-03")
        assert response.status_code == 405, method
    # The report's admin entry has nothing to add, change or delete.
    assert client.get("/admin/postmortems/reportmailing/add/").status_code == 403
    assert not cast.leader.has_perm("postmortems.change_reportmailing")
    assert not cast.leader.has_perm("postmortems.add_reportmailing")


def test_the_admin_page_prints_figures_with_their_definitions(client, cast, history):  # noqa: F811
    client.force_login(cast.leader)
    response = client.get(PAGE, {"month": "2025-03"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="figure-total">4<' in page
    assert "+3 (+300.0%) on February 2025" in page
    assert "Mean time to detect: the mean of detected minus impact started" in page
    assert "Months begin at midnight on the 1st in UTC" in page
    assert 'id="figure-cost">1,250.75<' in page
    assert 'id="figure-postmortems">1 of 3 (33%)<' in page
    for chart in ("trend", "severity", "uptime"):
        assert f'src="{CHART.format(chart)}?month=2025-03"' in page
    # Readable without JavaScript and under the CSP: no inline script or style elements.
    assert "<script>" not in page and "<style" not in page
    assert "report-missed" in page  # SEV-1's MTTA over its target
    assert ">Still open</a>" in page and ">Add alerting</a>" in page


def test_the_admin_page_defaults_to_the_last_month_and_refuses_a_bad_one(client, cast):
    client.force_login(cast.manager)
    response = client.get(PAGE)
    assert response.status_code == 200 and response.context["report"].period.key == "2025-03"
    response = client.get(PAGE, {"month": "2025-14"})
    assert response.status_code == 400
    assert "The month must be from 01 to 12." in response.content.decode()
    # "Reports" in the admin index is the monthly report.
    response = client.get("/admin/postmortems/reportmailing/")
    assert response.status_code == 200 and response.context["report"].period.key == "2025-03"


@pytest.mark.parametrize("name", ["trend", "severity", "uptime"])
def test_each_chart_is_valid_svg_served_as_an_image(client, cast, history, name):  # noqa: F811
    client.force_login(cast.leader)
    response = client.get(CHART.format(name), {"month": "2025-03"})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    assert not list(root.iter(f"{SVG}script"))
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    expected = {"trend": "Mar 25", "severity": "SEV-1", "uptime": "API"}[name]
    assert expected in texts
    policy_header = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy_header and "script-src 'none'" in policy_header


def test_a_chart_of_an_empty_month_still_draws(client, cast, policy):  # noqa: F811
    client.force_login(cast.leader)
    for name in ("trend", "severity", "uptime"):
        response = client.get(CHART.format(name), {"month": "2024-02"})
        assert response.status_code == 200
        ElementTree.fromstring(response.content)
    assert client.get(CHART.format("pie")).status_code == 404
    assert client.get(CHART.format("trend"), {"month": "nope"}).status_code == 400


def test_csv_of_the_figures_and_of_the_incidents(client, cast, history):  # noqa: F811
    client.force_login(cast.leader)
    response = client.get(PAGE, {"month": "2025-03", "format": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="report-2025-03.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["figure", "breakdown", "value", "definition"]
    values = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert values[("total", "")] == "4"
    assert values[("count", "SEV-1")] == "2"
    assert values[("mttr_seconds", "all")] == "14400.0"
    assert values[("mttd_seconds", "SEV-2")] == ""  # null
    assert values[("cost", "")] == "1250.75"

    response = client.get(PAGE, {"month": "2025-03", "format": "incidents"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["reference"] for r in rows] == [
        history.m1.reference,
        history.m2.reference,
        history.m3.reference,
        history.m4.reference,
    ]  # the drill is not there
    first = rows[0]
    assert (first["severity"], first["type"], first["services"]) == ("SEV-1", "outage", "api")
    assert (first["ttd_seconds"], first["tta_seconds"], first["ttr_seconds"]) == (
        "600",
        "600",
        "7200",
    )
    assert first["cost"] == "1000.50"
    assert rows[1]["services"] == "api web"
    assert rows[3]["type"] == "" and rows[3]["ttr_seconds"] == ""


def test_the_quarterly_report_has_the_same_figures_over_three_months(client, cast, history):  # noqa: F811
    client.force_login(cast.leader)
    data = client.get(QAPI, {"quarter": "2025-Q1"}).json()
    # J1, F1 and March's four; Q4 2024 had none; the drill is left out.
    assert (data["quarter"], data["total"], data["previous_total"]) == ("2025-Q1", 6, 0)
    assert data["drills_excluded"] == 1
    assert data["repeats"]["incidents"] == 2
    response = client.get(QPAGE, {"quarter": "2025-q1"})
    assert response.status_code == 200
    months = response.context["months"].months
    assert [(m.period.key, m.total) for m in months] == [
        ("2025-01", 1),
        ("2025-02", 1),
        ("2025-03", 4),
    ]
    assert months[2].mttr == pytest.approx(14400)
    assert client.get(QPAGE, {"quarter": "2025-Q1", "format": "csv"}).status_code == 200


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, {"month": "2025-03"}).status_code == 200
    return len(captured)


def test_the_page_and_the_api_cost_the_same_queries_at_any_size(
    client,
    cast,
    policy,  # noqa: F811
    paged,  # noqa: F811
    django_assert_max_num_queries,
):
    client.force_login(cast.leader)
    make_history(policy.sev, policy.types, policy.services, user=paged)
    page, api = _queries(client, PAGE), _queries(client, API)
    make_history(policy.sev, policy.types, policy.services, copies=5, user=paged)
    assert _queries(client, PAGE) == page
    with django_assert_max_num_queries(api):
        assert client.get(API, {"month": "2025-03"}).json()["total"] == 4 + 5 * 4
