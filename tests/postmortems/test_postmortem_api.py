"""/api/v1/postmortems/: list, retrieve, open, write, and the verbs (submit, send back,
publish, re-open, hand over, move the deadline, timeline rows, Markdown). Strict bodies: an
unknown or read-only key is a 400 naming it; a rule's refusal is a 4xx naming the field; a
postmortem the person takes no part in is a 403. Leadership reads, and nothing else."""

from rest_framework.test import APIClient

from ircore.verbs import verb
from postmortems.api.views import ActionItemViewSet, PostmortemViewSet

from .postmortem_world import declare

BASE = "/api/v1/postmortems/"


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def test_every_action_is_a_declared_verb():
    for viewset in (PostmortemViewSet, ActionItemViewSet):
        extra = {a.__name__ for a in viewset.get_extra_actions()}
        assert extra <= set(viewset.action_verbs)
        for name in viewset.action_verbs.values():
            verb(name)


def test_list_and_retrieve(world, pm, django_assert_max_num_queries):
    client = api(world.leader)
    with django_assert_max_num_queries(8):  # session, user, perms, page count, page
        body = client.get(BASE).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["incident"], row["severity"], row["status"], row["owner"]) == (
        pm.incident.reference, "SEV-2", "draft", "ivy",
    )  # fmt: skip
    assert row["due_at"] == "2025-03-16T11:00:00Z" and row["overdue"] is True
    detail = client.get(f"{BASE}{pm.pk}/").json()
    assert detail["time_to_detect_seconds"] == 600
    assert detail["timeline"][0]["kind"] == "declared" and detail["timeline"][0]["starred"]
    assert detail["summary"] == "" and detail["action_items"] == []


def test_filters_name_a_bad_value(world, pm):
    client = api(world.manager)
    assert client.get(BASE, {"owner": "ivy"}).json()["count"] == 1
    assert client.get(BASE, {"status": "published"}).json()["count"] == 0
    assert client.get(BASE, {"overdue": "true"}).json()["count"] == 1
    response = client.get(BASE, {"owner": "nobody"})
    assert response.status_code == 400 and "owner" in response.json()
    response = client.get(BASE, {"overdue": "perhaps"})
    assert response.status_code == 400 and "overdue" in response.json()


def test_writing_then_review_and_publication(world, pm):
    ivy, mia = api(world.ivy), api(world.manager)
    response = ivy.patch(
        f"{BASE}{pm.pk}/",
        {"summary": "Payments failed.", "root_cause": "No plan checks.", "attendees": ["boss"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["attendees"] == ["boss"]
    assert ivy.post(f"{BASE}{pm.pk}/submit/").json()["status"] == "in_review"
    assert ivy.post(f"{BASE}{pm.pk}/publish/").status_code == 403
    body = mia.post(f"{BASE}{pm.pk}/publish/").json()
    assert body["status"] == "published" and body["published_by"] == "mia"
    # Read-only now: a 409 naming the status.
    response = ivy.patch(f"{BASE}{pm.pk}/", {"summary": "x"}, format="json")
    assert response.status_code == 409 and "status" in response.json()
    response = mia.post(f"{BASE}{pm.pk}/reopen/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = mia.post(f"{BASE}{pm.pk}/reopen/", {"reason": "New facts"}, format="json")
    assert response.json()["status"] == "draft" and response.json()["reopen_reason"] == "New facts"


def test_strict_bodies_name_the_field(world, pm):
    client = api(world.ivy)
    for body, field in (
        ({"status": "published"}, "status"),
        ({"owner": "rob"}, "owner"),
        ({"colour": "red"}, "colour"),
        ({"summary": ["not", "text"]}, "summary"),
        ({"customers_affected": -3}, "customers_affected"),
        ({"attendees": ["ghost"]}, "attendees"),
        ({"review_meeting_at": "next tuesday"}, "review_meeting_at"),
    ):
        response = client.patch(f"{BASE}{pm.pk}/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.json(), (body, response.json())
    assert (
        "POST …/reassign/"
        in client.patch(f"{BASE}{pm.pk}/", {"owner": "rob"}, format="json").json()["owner"][0]
    )


def test_someone_elses_postmortem_is_a_403(world, pm):
    response = api(world.responder).patch(f"{BASE}{pm.pk}/", {"summary": "x"}, format="json")
    assert response.status_code == 403 and "detail" in response.json()


def test_leadership_reads_and_changes_nothing(world, pm):
    client = api(world.leader)
    assert client.get(f"{BASE}{pm.pk}/").status_code == 200
    assert (
        client.get(f"{BASE}{pm.pk}/markdown/").content.decode().startswith("# Incident postmortem")
    )
    for method, path, body in (
        ("patch", f"{BASE}{pm.pk}/", {"summary": "x"}),
        ("post", f"{BASE}{pm.pk}/submit/", {}),
        ("post", f"{BASE}{pm.pk}/reassign/", {"owner": "leo"}),
        ("post", f"{BASE}{pm.pk}/timeline/", {"text": "x", "occurred_at": "2025-03-14T09:00Z"}),
        ("post", BASE, {"incident": pm.incident.reference}),
    ):
        assert getattr(client, method)(path, body, format="json").status_code == 403, path
    pm.refresh_from_db()
    assert pm.summary == "" and pm.status == "draft"


def test_support_and_anonymous_see_nothing(world, pm):
    assert api(world.support).get(BASE).status_code == 403
    assert api().get(BASE).status_code in (401, 403)


def test_opening_by_hand(world):
    incident = declare(world, severity=world.sev3)
    client = api(world.ivy)
    response = client.post(BASE, {"incident": incident.reference}, format="json")
    assert response.status_code == 201 and response.json()["owner"] == "mia"
    response = client.post(BASE, {"incident": incident.reference}, format="json")
    assert response.status_code == 409 and "incident" in response.json()
    response = client.post(BASE, {"incident": "INC-nope"}, format="json")
    assert response.status_code == 400 and "incident" in response.json()


def test_timeline_rows_are_added_starred_and_dropped(world, pm):
    client = api(world.ivy)
    response = client.post(
        f"{BASE}{pm.pk}/timeline/",
        {"text": "Vendor confirms the cause", "occurred_at": "2025-03-14T10:00:00Z"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    entry = response.json()["id"]
    response = client.patch(f"{BASE}{pm.pk}/timeline/{entry}/", {"starred": True}, format="json")
    assert response.json()["starred"] is True
    response = client.patch(f"{BASE}{pm.pk}/timeline/{entry}/", {"text": ""}, format="json")
    assert response.status_code == 400 and "text" in response.json()
    assert client.delete(f"{BASE}{pm.pk}/timeline/{entry}/").status_code == 204
    assert client.patch(f"{BASE}{pm.pk}/timeline/{entry}/", {}, format="json").status_code == 404


def test_moving_the_deadline_is_for_managers(world, pm):
    body = {"due_at": "2025-03-20T12:00:00Z", "reason": "Vendor report due"}
    assert api(world.ivy).post(f"{BASE}{pm.pk}/deadline/", body, format="json").status_code == 403
    response = api(world.manager).post(f"{BASE}{pm.pk}/deadline/", body, format="json")
    assert response.json()["due_at"] == "2025-03-20T12:00:00Z"
