"""The capped-count paginator: exact below the cap, "N+" (or the planner's "about N") above
it, and one count query however many rows the table holds."""

import pytest
from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.core.paginator import EmptyPage
from django.db import connection
from django.test import RequestFactory

from ircore.models import Team
from ircore.pagination import CappedCountPaginator, Counted, capped_count

CAP = 5


class SmallCap(CappedCountPaginator):
    count_cap = CAP


def teams(n: int) -> None:
    Team.objects.bulk_create(Team(name=f"Team {i:03d}", slug=f"team-{i:03d}") for i in range(n))


@pytest.mark.django_db
def test_count_is_exact_up_to_the_cap(django_assert_num_queries):
    teams(CAP)
    paginator = SmallCap(Team.objects.order_by("name"), 2)
    with django_assert_num_queries(1):  # one capped COUNT(*)
        assert paginator.count == CAP
    assert paginator.count_is_exact is True
    assert paginator.count_display == "5"
    assert paginator.num_pages == 3
    assert [t.slug for t in paginator.page(3)] == ["team-004"]


@pytest.mark.django_db
def test_count_past_the_cap_is_shown_as_n_plus_on_a_filtered_list(django_assert_num_queries):
    teams(CAP + 3)
    paginator = SmallCap(Team.objects.filter(slug__startswith="team-").order_by("name"), 2)
    with django_assert_num_queries(1):
        assert paginator.count == CAP
    assert paginator.count_is_exact is False
    assert paginator.count_display == "5+"
    # Pages run up to the counted rows; past them the page is refused like any page past
    # the end, and the first page is the ordinary first rows.
    assert paginator.num_pages == 3
    assert [t.slug for t in paginator.page(1)] == ["team-000", "team-001"]
    with pytest.raises(EmptyPage):
        paginator.page(4)


@pytest.mark.django_db
def test_the_count_reads_at_most_cap_plus_one_rows_in_one_query(django_assert_num_queries):
    """The same single query at 6 rows and at 40: a LIMIT inside, no ORDER BY, no columns
    besides the key (annotations cost per row and do not change the count)."""
    teams(CAP + 1)
    annotated = Team.objects.order_by("name").extra(select={"shout": "UPPER(name)"})
    with django_assert_num_queries(1) as small:
        SmallCap(annotated, 2).count  # noqa: B018 - the count is the point
    Team.objects.bulk_create(Team(name=f"More {i}", slug=f"more-{i}") for i in range(34))
    with django_assert_num_queries(1) as large:
        assert SmallCap(annotated, 2).count >= CAP
    sql = large.captured_queries[0]["sql"]
    assert small.captured_queries[0]["sql"] == sql
    assert f"LIMIT {CAP + 1}" in sql
    assert "ORDER BY" not in sql and "UPPER" not in sql


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate")
def test_unfiltered_list_past_the_cap_shows_the_planners_estimate(django_assert_num_queries):
    teams(40)
    with connection.cursor() as cursor:
        # What autovacuum does on a live table; allowed inside the test's transaction.
        cursor.execute("ANALYZE ircore_team")
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'ircore_team'")
        (estimate,) = cursor.fetchone()
    assert estimate > CAP  # the test's premise: the planner knows about the rows
    with django_assert_num_queries(1):  # the estimate comes in the count's own statement
        counted = capped_count(Team.objects.all(), CAP)
    assert counted == Counted(rows=CAP + 1, cap=CAP, estimate=estimate)
    assert counted.display == f"about {estimate:,}"
    # A filter makes the table's estimate meaningless: it is not read.
    assert capped_count(Team.objects.filter(name__startswith="Team"), CAP).estimate is None


def test_display_of_each_case():
    assert Counted(rows=1234, cap=10_000).display == "1,234"
    assert Counted(rows=10_001, cap=10_000).display == "10,000+"
    assert Counted(rows=10_001, cap=10_000, estimate=998_123).display == "about 998,123"
    # A stale estimate below what was counted is no better than the cap.
    assert Counted(rows=10_001, cap=10_000, estimate=20).display == "10,000+"
    assert Counted(rows=10_001, cap=10_000, estimate=20).count == 10_000


def test_a_plain_list_is_counted_by_its_length():
    paginator = SmallCap(list(range(12)), 5)
    assert (paginator.count, paginator.count_is_exact, paginator.num_pages) == (12, True, 3)


class CappedTeamAdmin(admin.ModelAdmin):
    paginator = SmallCap
    show_full_result_count = False
    list_per_page = 2

    def get_queryset(self, request):
        # Filtered, so the figure is the capped count on every database (an unfiltered one
        # on PostgreSQL would show the planner's estimate, which another test moved).
        return super().get_queryset(request).filter(slug__startswith="team-")


@pytest.mark.django_db
@pytest.mark.parametrize(("rows", "shown"), [(3, "3 teams"), (CAP + 2, "5+ teams")])
def test_admin_change_list_prints_the_paginators_figure(admin_user, rows, shown):
    teams(rows)
    site = AdminSite(name="capped")
    site.register(Team, CappedTeamAdmin)
    request = RequestFactory().get("/admin/ircore/team/")
    request.user = admin_user
    response = site.get_model_admin(Team).changelist_view(request)
    response.render()
    paginator_html = response.content.decode().split('<p class="paginator">')[1].split("</p>")[0]
    assert shown in " ".join(paginator_html.split())
