"""/api/v1/action-items/: list with filters (owner, team, overdue, priority, status), add
(the due date from the policy), change, and move along (done needs evidence)."""

from datetime import date

from rest_framework.test import APIClient

from postmortems.models import ActionItem

BASE = "/api/v1/action-items/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_add_change_and_finish_an_item(world, pm):
    client = api(world.ivy)
    response = client.post(
        BASE,
        {"postmortem": pm.pk, "title": "Plan monitor", "type": "detect", "owner": "rob",
         "priority": "p3", "ticket_url": "https://jira.example/OPS-9"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    item = response.json()
    assert item["team"] == "payments" and item["incident"] == pm.incident.reference
    assert (
        date.fromisoformat(item["due_on"]) - date.fromisoformat(item["created_at"][:10])
    ).days == 30
    url = f"{BASE}{item['id']}/"
    assert client.patch(url, {"priority": "p1"}, format="json").json()["priority"] == "p1"
    response = client.post(f"{url}status/", {"status": "done"}, format="json")
    assert response.status_code == 400 and "evidence" in response.json()
    response = client.post(f"{url}status/", {"status": "done", "evidence": "Live"}, format="json")
    assert response.json()["status"] == "done" and response.json()["completed_by"] == "ivy"


def test_bad_bodies_name_the_field(world, pm):
    client = api(world.ivy)
    for body, field in (
        ({"postmortem": pm.pk, "type": "detect"}, "title"),
        ({"postmortem": pm.pk, "title": "T", "type": "blame"}, "type"),
        ({"postmortem": pm.pk, "title": "T", "type": "detect", "ticket_url": "http://x.example"},
         "ticket_url"),
        ({"postmortem": pm.pk, "title": "T", "type": "detect", "team": "ghosts"}, "team"),
        ({"postmortem": pm.pk, "title": "T", "type": "detect", "status": "done"}, "status"),
        ({"postmortem": 999999, "title": "T", "type": "detect"}, "postmortem"),
    ):  # fmt: skip
        response = client.post(BASE, body, format="json")
        assert response.status_code == 400, body
        assert field in response.json(), (body, response.json())
    assert not ActionItem.objects.exists()


def test_the_list_filters(world, pm):
    client = api(world.manager)
    for title, owner, due in (("A", "ivy", "2025-03-01"), ("B", "rob", "2099-01-01")):
        client.post(
            BASE,
            {"postmortem": pm.pk, "title": title, "type": "prevent", "owner": owner, "due_on": due},
            format="json",
        )
    assert [i["title"] for i in client.get(BASE).json()["results"]] == ["A", "B"]
    assert [i["title"] for i in client.get(BASE, {"overdue": "true"}).json()["results"]] == ["A"]
    assert [i["title"] for i in client.get(BASE, {"owner": "rob"}).json()["results"]] == ["B"]
    assert client.get(BASE, {"team": "payments"}).json()["count"] == 2
    assert client.get(BASE, {"priority": "p9"}).status_code == 400


def test_leadership_reads_only(world, pm):
    api(world.manager).post(
        BASE, {"postmortem": pm.pk, "title": "A", "type": "prevent"}, format="json"
    )
    item = ActionItem.objects.get()
    client = api(world.leader)
    assert client.get(BASE).json()["count"] == 1
    assert client.patch(f"{BASE}{item.pk}/", {"title": "x"}, format="json").status_code == 403
    assert (
        client.post(
            f"{BASE}{item.pk}/status/", {"status": "in_progress"}, format="json"
        ).status_code
        == 403
    )
    assert client.post(BASE, {"title": "x", "type": "prevent"}, format="json").status_code == 403
    assert api(world.support).get(BASE).status_code == 403
