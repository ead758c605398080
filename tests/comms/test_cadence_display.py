""" "Next update due" on the first screen (the board of open incidents on the admin index)
and on the incident page, read through the Django test client, with their query counts.
Time is frozen with time_machine for the page reads, and the viewer's zone is shown.
"""

import re

import pytest
import time_machine
from django.urls import reverse

from comms.services.cadence import cadence_tick
from ircore import hooks
from ircore.models import Profile

from .cadence_fixtures import *  # noqa: F403  (the fixtures)
from .cadence_fixtures import CUSTOMERS, INTERNAL, at

INDEX = "/admin/"


def text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def board_row(html: str, incident) -> str:
    match = re.search(rf'<tr[^>]*data-reference="{incident.reference}".*?</tr>', html, re.S)
    assert match, f"{incident.reference} is not on the board"
    return match.group(0)


def updates_cell(row: str) -> str:
    return re.search(r'<td class="ir-board-updates">(.*?)</td>', row, re.S).group(1)


def page(client, user, path, minute):
    client.force_login(user)
    with time_machine.travel(at(minute), tick=False):
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_the_board_shows_each_open_incident_s_next_update_and_how_overdue(
    client, declare, publish, cadences, cast
):
    late = declare(0, title="Overdue one")
    calm = declare(10, title="Within its cadence", severity=cadences.sev3)
    silent = declare(5, title="No cadence", severity=cadences.sev4)
    cadence_tick(now=at(11))
    publish(late, CUSTOMERS, 11)  # customers next due 41

    html = page(client, cast.manager, INDEX, 27)
    assert text(updates_cell(board_row(html, late))) == (
        "Internal update overdue by 12m, due 09:15 UTC Customer update due 09:41 UTC, in 14m"
    )
    assert 'class="ir-board-update ir-board-overdue"' in board_row(html, late)
    assert text(updates_cell(board_row(html, calm))) == "Internal update due 09:40 UTC, in 13m"
    assert text(updates_cell(board_row(html, silent))) == "—"


def test_the_board_shows_times_in_the_viewer_s_zone(client, declare, cast):
    declare(0)
    cadence_tick(now=at(1))
    Profile.objects.update_or_create(user=cast.manager, defaults={"time_zone": "Asia/Tokyo"})
    html = page(client, cast.manager, INDEX, 5)
    assert "Internal update due 18:15 JST, in 10m" in text(html)


@pytest.mark.parametrize("count", [1, 30])
def test_the_board_costs_one_query_more_for_the_updates_whatever_the_number_open(
    client, count, declare, cast, django_assert_num_queries
):
    for n in range(count):
        declare(n % 10, title=f"Incident {n}")
    cadence_tick(now=at(10))
    client.force_login(cast.manager)
    # Session, user, profile, two permission reads, the board's rows, its count line, the
    # updates due of all the rows (one query), the recent-actions log.
    with time_machine.travel(at(20), tick=False), django_assert_num_queries(9):
        html = client.get(INDEX).content.decode()
    assert html.count("ir-board-updates") == count


def test_the_incident_page_shows_the_next_updates_due(client, declare, publish, cast):
    incident = declare(0)
    cadence_tick(now=at(1))
    publish(incident, INTERNAL, 3)  # internal next due 18
    path = reverse("admin:incidents_incident_change", args=[incident.pk])

    html = page(client, cast.manager, path, 33)
    facts = text(re.search(r'<dl class="ir-facts">.*?</dl>', html, re.S).group(0))
    assert "Internal update overdue by 15m, due 09:18 UTC" in facts
    assert "Customer update overdue by 3m, due 09:30 UTC" in facts
    assert '<span class="ir-warn">overdue by 15m, due 09:18 UTC</span>' in html
    # Support sees the incident and how overdue its updates are (they write the notices).
    assert "Customer update overdue by 3m" in text(page(client, cast.support, path, 33))


def test_the_incident_page_reads_the_updates_due_in_one_query(
    client, declare, cast, django_assert_max_num_queries
):
    incident = declare(0)
    cadence_tick(now=at(1))
    client.force_login(cast.manager)
    path = reverse("admin:incidents_incident_change", args=[incident.pk])
    client.get(path)  # warm the per-session caches
    # The page's budget (tests/incidents/test_admin_timeline.py) holds.
    with time_machine.travel(at(5), tick=False), django_assert_max_num_queries(40) as captured:
        client.get(path)
    updates = [q["sql"] for q in captured.captured_queries if "comms_updatedue" in q["sql"]]
    assert len(updates) == 1  # both audiences' pending rows, read once


def test_the_badges_hook_asks_nothing_for_an_empty_board(declare, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert hooks.incident_badges([], now=at(0)) == {}
    incident = declare(0)
    cadence_tick(now=at(1))
    with django_assert_num_queries(1):
        badges = hooks.incident_badges([incident], now=at(20))
    assert badges == {
        incident.pk: [
            ("Internal update", "overdue by 5m, due 09:15 UTC", "overdue"),
            ("Customer update", "due 09:30 UTC, in 10m", "due"),
        ]
    }
    just_due = hooks.incident_badges([incident], now=at(15.5))[incident.pk][0]
    assert just_due == ("Internal update", "due now, 09:15 UTC", "overdue")
