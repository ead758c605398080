"""The notices REST API (/api/v1/notices/) against the real views, services and database:
drafts created and edited, the review's actions, every refusal a 4xx naming the field or the
reason, and who may do what."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from comms.models import Notice, Template
from incidents import services as incident_services

from .noticekit import *  # noqa: F403
from .noticekit import Status, approved, drafted, submitted

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notices/"


def url(notice, action=""):
    return f"{LIST}{notice.pk}/" + (f"{action}/" if action else "")


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def new(world, **overrides):
    return {
        "incident": world.incident.reference,
        "audience": "customers",
        "subject": "Card payments failing",
        "body": "We are investigating.",
        **overrides,
    }


# --- reading ----------------------------------------------------------------------------------


def test_everyone_with_a_part_lists_notices(world):
    drafted(world)
    for person in (world.manager, world.responder, world.support, world.leader, world.lawyer):
        response = api(person).get(LIST)
        assert response.status_code == 200, person
        assert response.data["results"][0]["subject"] == "Card payments failing for some merchants"
    assert api(world.outsider).get(LIST).status_code == 403
    assert api().get(LIST).status_code in (401, 403)


def test_a_notice_reads_with_its_review_and_what_you_may_do(world):
    notice = drafted(world)
    data = api(world.support).get(url(notice)).data
    assert {key: data[key] for key in ("incident", "audience", "status", "components")} == {
        "incident": world.incident.reference,
        "audience": "customers",
        "status": "draft",
        "components": ["payments-api"],
    }
    assert data["created_by"] == "sue"
    assert data["legal_review_required"] is False
    assert data["actions"] == ["submit", "discard"]
    assert api(world.leader).get(url(notice)).data["actions"] == []


def test_the_list_filters_and_names_a_bad_filter(world):
    drafted(world, subject="On this one")
    drafted(world, subject="On the other", incident=world.other)
    client = api(world.manager)
    found = client.get(LIST, {"incident": world.incident.reference}).data["results"]
    assert [row["subject"] for row in found] == ["On this one"]
    response = client.get(LIST, {"incident": "INC-NOPE"})
    assert response.status_code == 400 and list(response.data) == ["incident"]
    response = client.get(LIST, {"status": "lost"})
    assert response.status_code == 400 and list(response.data) == ["status"]
    assert client.get(LIST, {"status": "draft", "audience": ""}).data["count"] == 2


def test_the_list_costs_the_same_queries_at_any_size(world):
    client = api(world.manager)
    drafted(world)
    client.get(LIST)  # the user's permissions are cached on it from the first request
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    for n in range(6):
        approved(world, subject=f"Notice {n}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(LIST).status_code == 200
    assert len(many) == len(few)


def test_an_id_that_is_not_a_notice_is_a_json_404(world):
    client = api(world.manager)
    for path in (f"{LIST}999/", f"{LIST}abc/", f"{LIST}{'9' * 40}/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json")


# --- drafting ---------------------------------------------------------------------------------


def test_support_drafts_a_notice(world):
    response = api(world.support).post(LIST, new(world, components=["payments-api"]), format="json")
    assert response.status_code == 201
    notice = Notice.objects.get()
    assert response["Location"].endswith(url(notice))
    assert (notice.created_by, notice.status) == (world.support, Status.DRAFT)
    assert response.data["components"] == ["payments-api"]


def test_drafting_from_a_template_by_name(world):
    Template.objects.create(
        name="Customer outage notice",
        kind=Template.Kind.CUSTOMER_OUTAGE,
        audience="customers",
        subject="{{ public_service_names }} disrupted",
        body="Reference {{ reference }}.",
    )
    body = {"incident": world.incident.reference, "template": "Customer outage notice"}
    response = api(world.support).post(LIST, body, format="json")
    assert response.status_code == 201
    assert (response.data["subject"], response.data["template"]) == (
        "Payments disrupted",
        "Customer outage notice",
    )


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"colour": "red"}, "colour", "Unknown field; use one of:"),
        ({"incident": "INC-NOPE"}, "incident", "Unknown incident 'INC-NOPE'."),
        ({"incident": None}, "incident", "This field may not be null."),
        ({"audience": "press"}, "audience", '"press" is not a valid choice.'),
        ({"template": "Nope"}, "template", "Unknown template 'Nope'."),
        ({"components": ["nope"]}, "components", "Unknown service 'nope'."),
        ({"components": ["ledger-db"]}, "components", "Not on the public status page: Ledger DB."),
        ({"body": ""}, "body", "A notice needs a body."),
        ({"subject": "x" * 301}, "subject", "Ensure this field has no more than 300 characters."),
        ({"body": "a\x00b"}, "body", "Null characters are not allowed."),
    ],
)
def test_a_bad_draft_is_a_400_naming_the_field(world, change, field, reason):
    response = api(world.support).post(LIST, new(world, **change), format="json")
    assert response.status_code == 400, response.data
    assert list(response.data) == [field]
    assert response.data[field][0].startswith(reason)
    assert not Notice.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(world):
    response = api(world.support).post(LIST, ["not", "an", "object"], format="json")
    assert response.status_code == 400 and list(response.data) == ["detail"]


def test_leadership_and_legal_reviewers_do_not_draft(world):
    for person in (world.leader, world.lawyer):
        assert api(person).post(LIST, new(world), format="json").status_code == 403


def test_a_draft_is_edited_and_only_a_draft(world):
    notice = drafted(world)
    client = api(world.support)
    response = client.patch(url(notice), {"body": "Update: fixed."}, format="json")
    assert response.status_code == 200 and response.data["body"] == "Update: fixed."

    response = client.patch(url(notice), {"status": "approved"}, format="json")
    assert response.status_code == 400
    assert response.data == {
        "status": [
            "Change the status with POST …/submit/, …/approve/, …/legal-approve/, "
            "…/send-back/ or …/publish/."
        ]
    }
    assert client.put(url(notice), new(world), format="json").status_code == 405

    client.post(url(notice, "submit"))
    response = client.patch(url(notice), {"body": "Too late"}, format="json")
    assert response.status_code == 409 and list(response.data) == ["status"]


def test_a_draft_is_discarded_and_only_a_draft(world):
    notice = submitted(world)
    client = api(world.support)
    assert client.delete(url(notice)).status_code == 409
    draft = drafted(world)
    assert client.delete(url(draft)).status_code == 204
    assert list(Notice.objects.all()) == [notice]
    assert api(world.leader).delete(url(notice)).status_code == 403


# --- the review -------------------------------------------------------------------------------


def test_support_submits_a_manager_approves_and_publishes(world):
    notice = drafted(world)
    response = api(world.support).post(url(notice, "submit"))
    assert response.status_code == 200 and response.data["status"] == "in_review"
    assert response.data["actions"] == []

    manager = api(world.manager)
    assert manager.get(url(notice)).data["actions"] == ["approve", "send-back"]
    assert manager.post(url(notice, "approve")).data["status"] == "approved"
    response = manager.post(url(notice, "publish"))
    assert response.status_code == 200
    assert (response.data["status"], response.data["published_by"]) == ("published", "mia")
    # Retried: refused, nothing sent again.
    response = manager.post(url(notice, "publish"))
    assert response.status_code == 409 and "published it already" in response.data["status"][0]


def test_support_may_neither_approve_nor_publish(world):
    notice = approved(world)
    client = api(world.support)
    assert client.post(url(notice, "publish")).status_code == 403
    other = submitted(world, by=world.responder)
    assert client.post(url(other, "approve")).status_code == 403
    assert Notice.objects.get(pk=other.pk).status == Status.IN_REVIEW


def test_no_self_approval_is_a_403_saying_why(world):
    notice = submitted(world, by=world.manager)
    response = api(world.manager).post(url(notice, "approve"))
    assert response.status_code == 403
    assert response.data == {
        "detail": ["You wrote or changed this notice; someone else must approve it."]
    }


def test_a_communications_lead_approves_on_their_incident_only(world):
    # The responder leads the other incident's communications.
    mine = submitted(world, incident=world.other)
    not_mine = submitted(world)
    client = api(world.responder)
    assert client.post(url(mine, "approve")).data["status"] == "approved"
    response = client.post(url(not_mine, "approve"))
    assert response.status_code == 403
    assert "Communications Lead approve its notices" in response.data["detail"][0]


def test_the_legal_review_through_the_api(world):
    incident_services.incident_update(
        incident=world.incident, user=world.manager, data={"incident_type": world.security}
    )
    notice = submitted(world)
    assert api(world.manager).post(url(notice, "approve")).data["status"] == "in_review"
    assert api(world.manager).post(url(notice, "legal-approve")).status_code == 403
    assert api(world.manager).post(url(notice, "publish")).status_code == 409
    lawyer = api(world.lawyer)
    assert lawyer.get(url(notice)).data["actions"] == ["legal-approve", "send-back"]
    response = lawyer.post(url(notice, "legal-approve"))
    assert (response.data["status"], response.data["legal_approved_by"]) == ("approved", "lara")


def test_legal_approval_of_an_ordinary_notice_is_a_conflict(world):
    notice = submitted(world)
    response = api(world.lawyer).post(url(notice, "legal-approve"))
    assert response.status_code == 409
    assert response.data["status"][0].startswith("This notice needs no legal review")


def test_send_back_needs_a_comment_and_keeps_it(world):
    notice = submitted(world)
    client = api(world.manager)
    response = client.post(url(notice, "send-back"), {}, format="json")
    assert response.status_code == 400 and list(response.data) == ["comment"]
    response = client.post(url(notice, "send-back"), {"comment": "  "}, format="json")
    assert response.status_code == 400 and list(response.data) == ["comment"]
    response = client.post(url(notice, "send-back"), {"comment": "Shorter."}, format="json")
    assert response.status_code == 200
    assert response.data["status"] == "draft"
    assert [(c["author"], c["text"], c["from_status"]) for c in response.data["comments"]] == [
        ("mia", "Shorter.", "in_review")
    ]
    again = client.post(url(notice, "send-back"), {"comment": "Again"}, format="json")
    assert again.status_code == 409
    assert api(world.support).post(url(notice, "send-back"), {"comment": "x"}).status_code == 403


# --- schema -----------------------------------------------------------------------------------


def test_the_schema_describes_the_notices_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/v1/notices/:",
        "/api/v1/notices/{id}/:",
        "/api/v1/notices/{id}/submit/:",
        "/api/v1/notices/{id}/legal-approve/:",
        "/api/v1/notices/{id}/send-back/:",
        "/api/v1/notices/{id}/publish/:",
    ):
        assert path in schema
    assert "NoticeStatusEnum:" in schema and "NoticeAudienceEnum:" in schema
