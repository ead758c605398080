"""Paginated read-only inlines for the incident page: an alert storm writes thousands of
timeline entries (and alerts), so the page shows one page of them, newest first, with page
links (``?timeline_page=N``) that keep the rest of the query string.

A page costs two queries whatever the length: one COUNT over the incident's index and one
read of the page's rows. A bad page number shows the first page, an out-of-range one the
nearest, never an error.
"""

from typing import Any

from django.core.paginator import Page, Paginator
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, QueryDict


def nearest_page(asked: str | None, num_pages: int) -> int:
    """The page to show for ``?page=asked``: the first for anything not a number, the
    nearest one for a number out of range."""
    try:
        number = int(asked or 1)
    except ValueError:
        return 1
    return min(max(number, 1), max(num_pages, 1))


class PagedFormSet(BaseInlineFormSet):
    """One page of the inline's rows. ``paged_inline`` binds the page size, the query
    parameter and the request's query string to a subclass per request."""

    per_page = 50
    page_param = "page"
    page_number: str | None = None
    query: QueryDict = QueryDict()

    def get_queryset(self):
        if not hasattr(self, "_rows"):
            paginator = Paginator(super().get_queryset(), self.per_page)
            self._page = paginator.page(nearest_page(self.page_number, paginator.num_pages))
            self._rows = list(self._page.object_list)
        return self._rows

    @property
    def page(self) -> Page:
        self.get_queryset()
        return self._page

    @property
    def has_more(self) -> bool:
        """Whether older rows exist beyond this page."""
        return self.page.has_next()

    def page_links(self) -> dict[str, Any]:
        """What the template's page links need: the range shown, and for each link its
        number, its URL (the query string with only the page changed) and whether it is
        the current page; ``None`` entries are the ellipses."""
        page = self.page
        paginator = page.paginator

        def href(number: int) -> str:
            query = self.query.copy()
            query[self.page_param] = str(number)
            return f"?{query.urlencode()}#{self.prefix}-group"

        links = []
        if paginator.num_pages > 1:
            for number in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1):
                if number == Paginator.ELLIPSIS:
                    links.append(None)
                else:
                    links.append(
                        {"number": number, "url": href(number), "current": number == page.number}
                    )
        return {
            "first": page.start_index(),
            "last": page.end_index(),
            "count": paginator.count,
            "links": links,
            "newer": href(page.previous_page_number()) if page.has_previous() else "",
            "older": href(page.next_page_number()) if page.has_next() else "",
        }


class PagedInline:
    """Mixed into a read-only ``InlineModelAdmin``: its formset shows one page of rows,
    chosen by ``page_param`` in the query string."""

    formset = PagedFormSet
    per_page = 50
    page_param = "page"

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(
            formset.__name__,
            (formset,),
            {
                "per_page": self.per_page,
                "page_param": self.page_param,
                "page_number": request.GET.get(self.page_param),
                "query": request.GET,
            },
        )
