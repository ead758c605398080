"""A paginator for tables that grow to millions of rows: it never counts the whole table.

Django's paginator runs ``SELECT COUNT(*)`` over everything a list shows on every page view,
which grows with the table (48 ms of a 189 ms change list at a million incidents). This one
counts at most ``count_cap + 1`` rows, in one query whatever the size:

- up to ``count_cap`` matches the count is exact, as before;
- past it, an unfiltered list on PostgreSQL takes the planner's estimate of the table's rows
  (``pg_class.reltuples``, which autovacuum keeps current) fetched in the same query, shown
  "about 1,000,000"; any other list shows "10,000+". Pages run up to that figure (an estimate
  a little over the truth gives an empty last page; the rows past a capped count are reached
  by narrowing the filter or reversing the order).

The admin uses it with ``paginator = CappedCountPaginator`` and ``show_full_result_count =
False``; ``admin/pagination.html`` prints ``count_display``. The API's pagination
(``ircore.api.Pagination``) reports ``count`` with ``count_is_exact``.
"""

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.formats import number_format

# Matches counted exactly; a first page stays flat because at most this many rows are read.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Counted:
    """What the count query found: ``rows`` matches, of which at most ``cap + 1`` were read;
    ``estimate`` is the planner's figure for the whole table when it applies (else None)."""

    rows: int
    cap: int
    estimate: int | None = None

    @property
    def exact(self) -> bool:
        return self.rows <= self.cap

    @property
    def count(self) -> int:
        """The figure pages are computed from: exact, else the estimate (never below the cap)."""
        if self.exact:
            return self.rows
        return max(self.estimate or 0, self.cap)

    @property
    def display(self) -> str:
        if self.exact:
            return number_format(self.rows, force_grouping=True)
        if self.estimate is not None and self.estimate > self.cap:
            return f"about {number_format(self.estimate, force_grouping=True)}"
        return f"{number_format(self.cap, force_grouping=True)}+"


def _unfiltered(queryset: QuerySet) -> bool:
    """Whether the queryset is every row of its table, once each (so the table's estimate is
    its count): no WHERE, no DISTINCT, no UNION, no slice."""
    query = queryset.query
    return not (query.where or query.distinct or query.combinator or query.is_sliced)


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> Counted:
    """Count at most ``cap + 1`` matches of ``queryset``, in one query.

    The ordering and the selected columns (annotations such as a current-IC subquery) are
    dropped: neither changes how many rows match, and both cost per row. On PostgreSQL an
    unfiltered queryset reads the planner's estimate in the same statement.
    """
    limited = queryset.order_by().values("pk")[: cap + 1]
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or not _unfiltered(queryset):
        return Counted(rows=limited.count(), cap=cap)
    sql, params = limited.query.sql_with_params()
    with connection.cursor() as cursor:
        # reltuples is -1 for a table never analysed (PostgreSQL 14+): no estimate then.
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM ({sql}) capped), "  # noqa: S608 - Django's own SQL
            "(SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s))",
            (*params, connection.ops.quote_name(queryset.model._meta.db_table)),
        )
        rows, estimate = cursor.fetchone()
    return Counted(rows=rows, cap=cap, estimate=estimate if estimate and estimate > 0 else None)


class CappedCountPaginator(Paginator):
    """Django's paginator over ``capped_count``: the same pages, ``count`` bounded by the
    cap (or the estimate), plus ``count_is_exact`` and ``count_display`` for the page."""

    count_cap = COUNT_CAP

    @cached_property
    def counted(self) -> Counted:
        if isinstance(self.object_list, QuerySet):
            return capped_count(self.object_list, self.count_cap)
        # A list: its length costs nothing.
        return Counted(rows=len(self.object_list), cap=max(len(self.object_list), 1))

    @cached_property
    def count(self) -> int:
        return self.counted.count

    @property
    def count_is_exact(self) -> bool:
        return self.counted.exact

    @property
    def count_display(self) -> str:
        return self.counted.display
