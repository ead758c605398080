"""The incident page under an alert storm: 10,000 timeline entries open as one page of the
newest 50 with page links (``?timeline_page=N``), at the same number of queries as a short
timeline, with no inline style or script (CSP)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from incidents import services
from incidents.admin.inlines import TIMELINE_ON_PAGE
from incidents.models import TimelineEntry
from ircore import roles
from ircore.models import Service, Severity, Team
from tests.incidents.test_admin import FormReader

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
STORM = 10_000
ROW = re.compile(r'<div class="ir-note ir-wrap"><p>alert (\d+)</p></div>')


@pytest.fixture
def storm_world(db, make_user):
    severity = Severity.objects.create(key="SEV-2", rank=2, name="Major")
    team = Team.objects.create(name="Payments", slug="payments")
    service = Service.objects.create(name="Payments API", slug="payments-api", team=team)
    manager = make_user("mia", roles.INCIDENT_MANAGERS)

    def declare(title="Payments failing", entries=0):
        incident = services.incident_declare(
            title=title, severity=severity, services=[service], user=manager, now=T0
        )
        TimelineEntry.objects.bulk_create(
            (
                TimelineEntry(
                    incident=incident,
                    kind="alert",
                    text=f"alert {n}",
                    occurred_at=T0 + timedelta(seconds=n),
                )
                for n in range(1, entries + 1)
            ),
            batch_size=2000,
        )
        return incident

    return declare, manager


def page_url(incident, **query):
    base = reverse("admin:incidents_incident_change", args=[incident.pk])
    if query:
        base += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return base


def shown(response) -> list[int]:
    return [int(n) for n in ROW.findall(response.content.decode())]


def test_ten_thousand_entries_open_as_the_newest_page_at_a_short_timelines_cost(
    client, storm_world, django_assert_max_num_queries
):
    declare, manager = storm_world
    short = declare("Short", entries=3)
    storm = declare("Storm", entries=STORM)
    client.force_login(manager)
    client.get(page_url(short))  # warm the per-session caches

    with django_assert_max_num_queries(60) as captured:
        assert client.get(page_url(short)).status_code == 200
    fixed = len(captured)

    with django_assert_max_num_queries(fixed):
        response = client.get(page_url(storm))
    assert response.status_code == 200
    # Newest first: the storm's last 50 alerts, nothing older.
    assert shown(response) == list(range(STORM, STORM - TIMELINE_ON_PAGE, -1))
    html = response.content.decode()
    assert f"The newest {TIMELINE_ON_PAGE} entries of {STORM + 1}." in html
    assert 'href="?timeline_page=2#timeline-group"' in html  # the next page
    last = (STORM + 1 + TIMELINE_ON_PAGE - 1) // TIMELINE_ON_PAGE
    assert f'href="?timeline_page={last}#timeline-group"' in html  # the oldest page
    assert "‹ Newer" not in html and "Older ›" in html

    # A page deep in the storm costs the same.
    with django_assert_max_num_queries(fixed):
        middle = client.get(page_url(storm, timeline_page=100))
    first_on_page = STORM - 99 * TIMELINE_ON_PAGE
    assert shown(middle) == list(range(first_on_page, first_on_page - TIMELINE_ON_PAGE, -1))
    assert "Entries 4951–5000 of 10001, newest first." in middle.content.decode()
    assert 'href="?timeline_page=99#timeline-group" rel="prev"' in middle.content.decode()

    # The oldest page ends with the declaration, the first thing that happened.
    oldest = client.get(page_url(storm, timeline_page=last))
    formset = oldest.context["inline_admin_formsets"][-1].formset
    assert formset.page.number == last
    assert [entry.kind for entry in formset.get_queryset()] == ["declared"]
    assert "Older ›" not in oldest.content.decode()


def test_a_short_timeline_has_no_page_links(client, storm_world):
    declare, manager = storm_world
    incident = declare(entries=TIMELINE_ON_PAGE - 1)  # with the declaration: exactly one page
    client.force_login(manager)

    response = client.get(page_url(incident))

    assert len(shown(response)) == TIMELINE_ON_PAGE - 1
    assert 'aria-label="Timeline pages"' not in response.content.decode()
    assert not response.context["inline_admin_formsets"][-1].formset.has_more


@pytest.mark.parametrize(
    ("asked", "number"), [("abc", 1), ("0", 1), ("-3", 1), ("999", 3), ("2", 2), ("", 1)]
)
def test_a_bad_or_out_of_range_page_shows_the_nearest_page(client, storm_world, asked, number):
    declare, manager = storm_world
    incident = declare(entries=2 * TIMELINE_ON_PAGE + 5)  # three pages
    client.force_login(manager)

    response = client.get(page_url(incident, timeline_page=asked))

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][-1].formset.page.number == number


def test_page_links_keep_the_rest_of_the_query_string(client, storm_world):
    declare, manager = storm_world
    incident = declare(entries=2 * TIMELINE_ON_PAGE)
    client.force_login(manager)

    # The admin keeps the list's filters in ``_changelist_filters`` to go back to them.
    response = client.get(page_url(incident, _changelist_filters="status__exact%3Dtriage"))

    html = response.content.decode()
    assert (
        'href="?_changelist_filters=status__exact%3Dtriage&amp;timeline_page=2#timeline-group"'
        in html
    )


def test_the_paged_timeline_holds_no_inline_style_or_script(client, storm_world):
    declare, manager = storm_world
    incident = declare(entries=3 * TIMELINE_ON_PAGE)
    client.force_login(manager)

    html = client.get(page_url(incident, timeline_page=2)).content.decode()

    assert 'aria-label="Timeline pages"' in html
    assert not re.search(r"\sstyle=\"", html)
    assert not re.search(r"\son[a-z]+=\"", html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_saving_the_details_from_a_later_timeline_page_still_saves(client, storm_world):
    """The edit form posts back to the page's own URL (with ``timeline_page``); the read-only
    timeline rows take no part in the save."""
    declare, manager = storm_world
    incident = declare(entries=2 * TIMELINE_ON_PAGE)
    client.force_login(manager)
    url = page_url(incident, timeline_page=2)
    reader = FormReader("incident_form")
    reader.feed(client.get(url).content.decode())
    data = dict(reader.data)
    data["title"] = "Payments failing (card scheme)"
    data["_continue"] = "Save and continue editing"

    saved = client.post(url, data)

    assert saved.status_code == 302
    assert saved["Location"] == url  # back to the same timeline page
    incident.refresh_from_db()
    assert incident.title == "Payments failing (card scheme)"
