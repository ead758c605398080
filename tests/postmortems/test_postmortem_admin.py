"""The postmortem pages in the admin, through the Django test client: the list (fixed number
of queries at any size, overdue and mine filters), the page that writes it (sections, its
timeline rows and action items inline, through the services), the buttons (review, publish,
re-open with a reason), the read-only published page, the exports, and who sees what."""

from datetime import UTC, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from postmortems.models import ActionItem, Postmortem
from postmortems.services.postmortems import (
    postmortem_publish,
    postmortem_submit,
    postmortem_update,
    postmortems_open_missed,
)
from tests.ircore.test_admin_smoke import form_data

from .postmortem_world import at, declare, resolve

LIST = reverse("admin:postmortems_postmortem_changelist")


def page_url(pm, view="change"):
    return reverse(f"admin:postmortems_postmortem_{view}", args=[pm.pk])


def button_url(pm, name):
    return reverse("admin:postmortems_postmortem_button", args=[pm.pk, name])


def opened(world, n=1, hours=2):
    made = []
    for i in range(n):
        incident = declare(world, ic=world.ivy, title=f"Payments failing {i}")
        resolve(incident, world.manager, at(hours))
    postmortems_open_missed(now=at(hours))
    made = list(Postmortem.objects.order_by("id"))
    return made[0] if n == 1 else made


@pytest.fixture
def pm(world):
    return opened(world)


def list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_at_any_size(client, world):
    opened(world, n=2)
    client.force_login(world.manager)
    small = list_queries(client)
    for i in range(8):
        incident = declare(world, title=f"More {i}")
        resolve(incident, world.manager, at(3))
    postmortems_open_missed(now=at(3))
    assert Postmortem.objects.count() == 10
    assert list_queries(client) == small


def test_the_list_filters_overdue_and_mine(client, world, pm):
    other = declare(world, title="Someone else's")
    resolve(other, world.manager, at(100))
    postmortems_open_missed(now=at(100))  # due at T0+148h
    client.force_login(world.ivy)

    def listed(**params):
        with time_machine.travel(at(60), tick=False):  # the first is overdue, not the other
            return [p.pk for p in client.get(LIST, params).context["cl"].result_list]

    assert listed(mine="yes") == [pm.pk]
    assert listed(deadline="overdue") == [pm.pk]
    assert listed(deadline="due") == [Postmortem.objects.get(incident=other).pk]


def test_writing_a_section_saves_through_the_service(client, world, pm):
    client.force_login(world.ivy)
    response = client.get(page_url(pm))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'placeholder="e.g. A migration added an index' in page  # a blameless prompt
    assert "not who is to blame" in page
    data = form_data(response)
    data["summary"] = "Card payments timed out."
    data["root_cause"] = "No query-plan checks."
    response = client.post(page_url(pm), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    pm.refresh_from_db()
    assert pm.summary == "Card payments timed out."
    assert pm.history.latest("history_id").history_user == world.ivy
    assert pm.incident.timeline.filter(text__contains="edited the postmortem: summary, root cause")


def test_timeline_rows_are_starred_and_action_items_added_inline(client, world, pm):
    client.force_login(world.ivy)
    response = client.get(page_url(pm))
    data = form_data(response)
    row = pm.timeline.filter(starred=False).first()
    index = list(pm.timeline.order_by("occurred_at", "id")).index(row)
    data[f"timeline-{index}-starred"] = "on"
    data.update(
        {
            "action_items-TOTAL_FORMS": "1",
            "action_items-0-title": "Alert on query plan changes",
            "action_items-0-kind": "detect",
            "action_items-0-priority": "p1",
            "action_items-0-due_on": "",
            "action_items-0-owner": str(world.responder.pk),
            "action_items-0-team": "",
        }
    )
    response = client.post(page_url(pm), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    row.refresh_from_db()
    assert row.starred
    item = ActionItem.objects.get()
    assert (item.postmortem, item.owner, item.created_by) == (pm, world.responder, world.ivy)
    # p1's days from the policy, from the day it was added.
    assert item.due_on == timezone.now().astimezone(UTC).date() + timedelta(days=7)


def test_buttons_send_for_review_and_publish(client, world, pm):
    client.force_login(world.ivy)
    page = client.get(page_url(pm)).content.decode()
    assert "Send for review" in page and ">Publish<" not in page
    # Refused with the reason, nothing changes.
    response = client.post(button_url(pm, "submit"))
    assert response.status_code == 302
    assert "Write the summary" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    postmortem_update(postmortem=pm, user=world.ivy, data={"summary": "S", "root_cause": "R"})
    client.post(button_url(pm, "submit"))
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.IN_REVIEW
    # The owner may not publish: no button, and the URL is refused.
    assert ">Publish<" not in client.get(page_url(pm)).content.decode()
    assert client.post(button_url(pm, "publish")).status_code == 403
    client.force_login(world.manager)
    assert ">Publish<" in client.get(page_url(pm)).content.decode()
    client.post(button_url(pm, "publish"))
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.PUBLISHED and pm.published_by == world.manager


def published(world, pm):
    postmortem_update(
        postmortem=pm, user=world.ivy, data={"summary": "Payments **failed**", "root_cause": "R"}
    )
    postmortem_submit(postmortem=pm, user=world.ivy)
    return postmortem_publish(postmortem=pm, user=world.manager)


def test_the_published_page_is_read_only_and_rendered(client, world, pm):
    published(world, pm)
    client.force_login(world.manager)
    response = client.get(page_url(pm))
    page = response.content.decode()
    assert "<strong>failed</strong>" in page  # the section rendered, not a text box
    assert 'name="summary"' not in page and 'name="_save"' not in page
    assert "Re-open" in page and "read-only until re-opened" in page
    # A POST changes nothing.
    before = pm.history.count()
    assert client.post(page_url(pm), {"summary": "x"}).status_code == 403
    assert pm.history.count() == before


def test_reopening_asks_for_a_reason(client, world, pm):
    published(world, pm)
    client.force_login(world.manager)
    form = client.get(button_url(pm, "reopen"))
    assert form.status_code == 200 and "say why" in form.content.decode()
    response = client.post(button_url(pm, "reopen"), {"reason": "  "})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    response = client.post(button_url(pm, "reopen"), {"reason": "The vendor's report came in"})
    assert response.status_code == 302
    pm.refresh_from_db()
    assert (pm.status, pm.reopen_reason) == ("draft", "The vendor's report came in")


def test_leadership_reads_the_page_and_the_exports_and_changes_nothing(client, world, pm):
    client.force_login(world.leader)
    assert client.get(LIST).status_code == 200
    response = client.get(page_url(pm))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="summary"' not in page and "Send for review" not in page
    assert client.post(page_url(pm), form_data(response)).status_code == 403
    assert client.post(button_url(pm, "submit")).status_code == 403
    assert client.get(reverse("admin:postmortems_postmortem_add")).status_code == 403
    markdown = client.get(page_url(pm, "markdown"))
    assert markdown.status_code == 200 and markdown["Content-Type"].startswith("text/markdown")
    assert markdown["Content-Disposition"].endswith(f'postmortem-{pm.incident.reference}.md"')
    assert client.get(page_url(pm, "print")).content.decode().startswith("<!DOCTYPE html>")


def test_a_responder_reads_others_postmortems_but_writes_only_their_own(client, world, pm):
    client.force_login(world.responder)
    response = client.get(page_url(pm))
    assert response.status_code == 200 and 'name="summary"' not in response.content.decode()


def test_support_and_outsiders_see_nothing(client, world, pm):
    client.force_login(world.support)
    assert client.get(LIST).status_code == 403
    assert client.get(page_url(pm, "markdown")).status_code == 403
    client.force_login(world.outsider)
    assert client.get(LIST).status_code == 302  # to the login page


def test_opening_by_hand_from_the_add_page(client, world):
    incident = declare(world, severity=world.sev3)
    client.force_login(world.ivy)
    add = reverse("admin:postmortems_postmortem_add")
    response = client.post(add, {"incident": incident.pk, "owner": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors
    pm = Postmortem.objects.get()
    assert (pm.incident, pm.opened_by, pm.owner) == (incident, world.ivy, world.manager)
    # Twice is refused on the incident field, with what was typed kept.
    response = client.post(add, {"incident": incident.pk})
    assert response.status_code == 200
    assert "incident" in response.context["adminform"].form.errors
