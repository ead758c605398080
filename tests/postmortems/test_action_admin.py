"""The action item list in the admin: every postmortem's items in one list, filtered by
owner, team, overdue, priority and status, in a fixed number of queries whatever its length;
the item's page moves it along through the services (done needs its evidence)."""

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ircore.models import Team
from postmortems.models import ActionItem, Postmortem
from postmortems.services.actions import action_item_create
from postmortems.services.postmortems import postmortems_open_missed
from tests.ircore.test_admin_smoke import form_data

from .postmortem_world import at, declare, resolve

LIST = reverse("admin:postmortems_actionitem_changelist")


def postmortems(world, n):
    for i in range(n):
        incident = declare(world, ic=world.ivy, title=f"Incident {i}")
        resolve(incident, world.manager, at(2))
    postmortems_open_missed(now=at(2))
    return list(Postmortem.objects.order_by("id"))


def add(world, pm, title, **data):
    data = {"title": title, "kind": "prevent", **data}
    return action_item_create(user=world.manager, postmortem=pm, data=data, now=at(3))


@pytest.fixture
def items(world):
    first, second = postmortems(world, 2)
    platform = Team.objects.create(name="Platform", slug="platform")
    return {
        "late": add(world, first, "Late", owner=world.ivy, priority="p1", due_on=date(2025, 3, 1)),
        "soon": add(world, first, "Soon", owner=world.responder, due_on=date(2025, 4, 1)),
        "other": add(world, second, "Other team", team=platform, priority="p3",
                     due_on=date(2025, 3, 2)),
    }  # fmt: skip


def listed(client, **params) -> set[str]:
    with time_machine.travel(at(24 * 5), tick=False):  # 2025-03-19
        response = client.get(LIST, params)
    assert response.status_code == 200
    return {item.title for item in response.context["cl"].result_list}


def test_one_list_across_postmortems_with_its_filters(client, world, items):
    client.force_login(world.ivy)
    assert listed(client) == {"Late", "Soon", "Other team"}
    assert listed(client, owner="mine") == {"Late"}
    assert listed(client, owner=str(world.responder.pk)) == {"Soon"}
    assert listed(client, owner="none") == {"Other team"}
    assert listed(client, team=str(items["other"].team_id)) == {"Other team"}
    assert listed(client, overdue="yes") == {"Late", "Other team"}
    assert listed(client, overdue="no") == {"Soon"}
    assert listed(client, priority="p1") == {"Late"}
    assert listed(client, status="open") == {"Late", "Soon", "Other team"}
    assert listed(client, overdue="yes", priority="p3") == {"Other team"}


def queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LIST).status_code == 200
    return len(captured)


def test_the_list_costs_the_same_at_any_size(client, world, items):
    client.force_login(world.manager)
    small = queries(client)
    more = postmortems(world, 3)[-3:]
    for pm in more:
        for i in range(4):
            add(world, pm, f"Item {pm.pk}-{i}", owner=world.responder, due_on=date(2025, 5, i + 1))
    assert ActionItem.objects.count() == 15
    assert queries(client) == small


def test_adding_an_item_takes_its_due_date_from_the_policy(client, world, items):
    client.force_login(world.manager)
    pm = items["late"].postmortem
    response = client.post(
        reverse("admin:postmortems_actionitem_add"),
        {"postmortem": pm.pk, "title": "Runbook", "kind": "process", "priority": "p4",
         "owner": "", "team": "", "due_on": "", "description": "", "ticket_url": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    item = ActionItem.objects.get(title="Runbook")
    assert (item.due_on - item.created_at.date()).days == 90


def test_done_without_evidence_is_refused_on_the_page_and_saves_nothing(client, world, items):
    item = items["late"]
    client.force_login(world.ivy)
    url = reverse("admin:postmortems_actionitem_change", args=[item.pk])
    data = form_data(client.get(url))
    data["status"] = "done"
    response = client.post(url, data)
    assert response.status_code == 200
    errors = str(response.context["adminform"].form.errors)
    assert "evidence" in errors.lower()
    item.refresh_from_db()
    assert item.status == "open"
    data["evidence"] = "https://git.example/mr/7 merged and deployed"
    assert client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert (item.status, item.completed_by) == ("done", world.ivy)


def test_wont_do_takes_its_reason(client, world, items):
    item = items["soon"]
    client.force_login(world.responder)  # its owner
    url = reverse("admin:postmortems_actionitem_change", args=[item.pk])
    data = form_data(client.get(url))
    data.update({"status": "wont_do", "reason": "Superseded by the new gateway"})
    assert client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert item.wont_do_reason == "Superseded by the new gateway"


def test_leadership_reads_the_list_and_changes_nothing(client, world, items):
    client.force_login(world.leader)
    assert listed(client) == {"Late", "Soon", "Other team"}
    url = reverse("admin:postmortems_actionitem_change", args=[items["late"].pk])
    response = client.get(url)
    assert response.status_code == 200 and 'name="title"' not in response.content.decode()
    assert client.post(url, {"title": "x"}).status_code == 403
    assert client.get(reverse("admin:postmortems_actionitem_add")).status_code == 403
    response = client.post(
        LIST, {"action": "mark_in_progress", "_selected_action": [items["late"].pk]}
    )
    items["late"].refresh_from_db()
    assert items["late"].status == "open"


def test_support_sees_no_action_items(client, world, items):
    client.force_login(world.support)
    assert client.get(LIST).status_code == 403


def test_mark_done_in_bulk_reports_the_refusals(client, world, items):
    client.force_login(world.manager)
    response = client.post(
        LIST,
        {"action": "mark_done", "_selected_action": [items["late"].pk, items["soon"].pk]},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert any("evidence" in m for m in shown) and "Moved 0 items." in shown
