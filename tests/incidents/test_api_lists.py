# ruff: noqa: F811 - the fixtures imported from test_api are requested by name
"""API lists: one rule for empty filter values (empty means not filtered) and a count that
stays cheap at any size (exact up to the cap, then flagged as not exact)."""

import pytest

from ircore.models import Severity, Team
from ircore.pagination import CappedCountPaginator

from .test_api import (  # noqa: F401 - fixtures used by name
    LIST,
    client_for,
    clock,
    make,
    policy,
    refs,
    rob,
    spread,
    url,
)

INCIDENT_FILTERS = [
    "status",
    "severity",
    "service",
    "team",
    "type",
    "drill",
    "open",
    "declared_after",
    "declared_before",
    "ordering",
    "page",
    "page_size",
]


@pytest.mark.parametrize("name", INCIDENT_FILTERS)
@pytest.mark.parametrize("empty", ["", "%20"])
def test_every_incident_filter_given_empty_is_not_a_filter(rob, spread, name, empty):
    everything = refs(rob.get(LIST))
    assert len(everything) == 5
    assert refs(rob.get(f"{LIST}?{name}={empty}")) == everything


def test_empty_values_alongside_real_ones_are_dropped(rob, spread):
    response = rob.get(f"{LIST}?status=&status=resolved&severity=&service=&drill=")
    assert refs(response) == [spread.old.reference]


def test_unknown_values_are_still_refused_next_to_empty_ones(rob, spread):
    response = rob.get(f"{LIST}?severity=&severity=SEV-9")
    assert response.status_code == 400
    assert "severity" in response.data


def test_timeline_kind_given_empty_is_not_a_filter(rob, spread):
    everything = rob.get(url(spread.both, "timeline")).data["count"]
    assert everything > 0
    response = rob.get(url(spread.both, "timeline") + "?kind=")
    assert response.status_code == 200
    assert response.data["count"] == everything


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/services/", "team"),
        ("/api/v1/services/", "tier"),
        ("/api/v1/services/", "public"),
        ("/api/v1/services/", "ordering"),
        ("/api/v1/severities/", "ordering"),
        ("/api/v1/incident-types/", "ordering"),
        ("/api/v1/teams/", "ordering"),
    ],
)
def test_every_catalog_filter_given_empty_is_not_a_filter(rob, policy, path, name):
    everything = rob.get(path)
    assert everything.status_code == 200 and everything.data["count"] > 0
    response = rob.get(f"{path}?{name}=")
    assert response.status_code == 200, response.data
    assert response.data["results"] == everything.data["results"]


# --- counts --------------------------------------------------------------------------------


def test_count_is_exact_below_the_cap(rob, spread):
    response = rob.get(LIST)
    assert (response.data["count"], response.data["count_is_exact"]) == (5, True)


@pytest.fixture
def cap_of_three(monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "count_cap", 3)


def test_past_the_cap_the_count_says_it_is_not_exact(rob, spread, cap_of_three):
    # Four open incidents past a cap of three. Filtered, so every database shows the cap
    # (an unfiltered list on PostgreSQL would show the table's estimate).
    first = rob.get(f"{LIST}?open=true&page_size=2")
    assert first.status_code == 200
    assert (first.data["count"], first.data["count_is_exact"]) == (3, False)
    assert refs(first) == [spread.both.reference, spread.leak.reference]
    # Pages run up to the counted rows; the rest are reached by narrowing the filter.
    second = rob.get(first.data["next"])
    assert refs(second) == [spread.drill.reference]
    assert second.data["next"] is None
    assert rob.get(f"{LIST}?open=true&page_size=2&page=3").status_code == 404
    narrowed = rob.get(f"{LIST}?open=true&type=outage")
    assert refs(narrowed) == [spread.webhooks.reference]
    assert narrowed.data["count_is_exact"] is True


def test_the_list_runs_the_same_queries_below_and_above_the_cap(
    rob, make, policy, cap_of_three, django_assert_num_queries
):
    for n in range(3):
        make(f"Incident {n}", services=[policy.api])
    # session, user, profile, user and group permissions, capped count, page, services.
    with django_assert_num_queries(8) as below:
        assert rob.get(f"{LIST}?open=true").data["count_is_exact"] is True
    for n in range(3, 9):
        make(f"Incident {n}", services=[policy.api])
    with django_assert_num_queries(8) as above:
        assert rob.get(f"{LIST}?open=true").data["count_is_exact"] is False
    count_sql = [q["sql"] for q in above.captured_queries if "COUNT(*)" in q["sql"]]
    assert len(count_sql) == 1 and "LIMIT 4" in count_sql[0]
    assert len(below.captured_queries) == len(above.captured_queries)


def test_schema_documents_count_is_exact(rob, db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    page = schema["components"]["schemas"]["PaginatedIncidentListList"]
    assert page["properties"]["count_is_exact"] == {"type": "boolean"}
    assert "count_is_exact" in page["required"]


def test_catalog_rows_are_unaffected(rob, policy):
    # Small tables: the count is exact and says so.
    response = rob.get("/api/v1/teams/")
    assert response.data["count"] == Team.objects.count()
    assert response.data["count_is_exact"] is True
    assert rob.get("/api/v1/severities/").data["count"] == Severity.objects.count()


def test_a_filterset_built_in_code_drops_blank_values_too(spread):
    from incidents.api.filters import IncidentFilter
    from incidents.models import Incident

    filterset = IncidentFilter(
        {"severity": "", "status": ["", "resolved"], "service": " "}, Incident.objects.all()
    )
    assert filterset.is_valid(), filterset.errors
    assert [i.reference for i in filterset.qs] == [spread.old.reference]
