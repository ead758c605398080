"""The notice admin through the Django test client: the list and its filters, the draft form,
the notice's page with its preview and the buttons each person gets, the review's steps as
posts and list actions, send back with a comment, discarding a draft, internal routes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comms.models import InternalRoute, Notice
from comms.services import notices
from incidents import services as incident_services
from incidents.models import TimelineEntry
from ircore.models import NotificationEndpoint

from .noticekit import *  # noqa: F403
from .noticekit import Status, approved, drafted, submitted

pytestmark = pytest.mark.django_db

LIST = "/admin/comms/notice/"
ADD = "/admin/comms/notice/add/"


def page(notice, step=""):
    return f"/admin/comms/notice/{notice.pk}/{step + '/' if step else 'change/'}"


def as_(client, user):
    client.force_login(user)
    return client


def button_names(response) -> set[str]:
    html = response.content.decode()
    names = {"submit", "approve", "legal_approve", "publish"}
    shown = {name for name in names if f'name="_{name}"' in html}
    if "Send back to draft…" in html:
        shown.add("send_back")
    return shown


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the list ---------------------------------------------------------------------------------


def test_everyone_with_a_part_reads_the_list_and_an_outsider_does_not(client, world):
    drafted(world)
    for person in (world.manager, world.responder, world.support, world.leader, world.lawyer):
        response = as_(client, person).get(LIST)
        assert response.status_code == 200, person
        assert "Card payments failing for some merchants" in response.content.decode()
    assert as_(client, world.outsider).get(LIST).status_code == 302  # not staff: the login


def test_the_list_filters_by_status_and_legal_review(client, world):
    drafted(world, subject="Still a draft")
    submitted(world, subject="Waiting for review")
    as_(client, world.manager)
    html = client.get(LIST, {"status__exact": "in_review"}).content.decode()
    assert "Waiting for review" in html and "Still a draft" not in html
    incident_services.incident_update(
        incident=world.incident, user=world.manager, data={"incident_type": world.security}
    )
    html = client.get(LIST, {"legal": "awaiting"}).content.decode()
    assert "Waiting for review" in html and "Still a draft" not in html
    html = as_(client, world.support).get(LIST, {"whose": "mine"}).content.decode()
    assert "Waiting for review" in html


def test_the_list_costs_the_same_queries_at_any_size(client, world):
    as_(client, world.manager)
    drafted(world)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    for n in range(8):
        drafted(world, subject=f"Notice {n}", incident=world.other if n % 2 else None)
    with CaptureQueriesContext(connection) as many:
        assert client.get(LIST).status_code == 200
    assert len(many) == len(few)


# --- drafting ---------------------------------------------------------------------------------


def test_support_drafts_by_hand_and_lands_on_its_page(client, world):
    as_(client, world.support)
    response = client.post(
        ADD,
        {
            "incident": world.incident.pk,
            "audience": "customers",
            "subject": "Card payments failing",
            "body": "We are **investigating**.\n\n<script>alert(1)</script>",
            "components": [world.api.pk],
        },
    )
    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == page(notice)
    assert (notice.created_by, notice.status) == (world.support, Status.DRAFT)
    html = client.get(page(notice)).content.decode()
    # The preview renders the Markdown, sanitised.
    assert "<strong>investigating</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "Goes to:</strong> the public status page (Payments) and its subscribers." in " ".join(
        html.split()
    )


def test_the_draft_form_names_what_is_wrong(client, world):
    as_(client, world.support)
    response = client.post(
        ADD,
        {
            "incident": world.incident.pk,
            "audience": "customers",
            "subject": "Card payments failing",
            "body": "",
            "components": [world.api.pk],
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"body": ["A notice needs a body."]}
    assert not Notice.objects.exists()


def test_the_incident_page_offers_a_draft_with_the_incident_chosen(client, world):
    as_(client, world.support)
    html = client.get(f"/admin/incidents/incident/{world.incident.pk}/change/").content.decode()
    assert f'href="/admin/comms/notice/add/?incident={world.incident.pk}"' in html
    form = client.get(ADD, {"incident": world.incident.pk}).context["adminform"].form
    assert form.initial["incident"] == world.incident.pk
    # Leadership reads incidents but drafts nothing: no link.
    html = (
        as_(client, world.leader)
        .get(f"/admin/incidents/incident/{world.incident.pk}/change/")
        .content.decode()
    )
    assert "/admin/comms/notice/add/" not in html


def test_leadership_may_not_draft(client, world):
    assert as_(client, world.leader).get(ADD).status_code == 403


def test_editing_a_draft_goes_through_the_service(client, world):
    notice = drafted(world)
    as_(client, world.responder)
    response = client.post(
        page(notice),
        {"subject": "Card payments failing (update)", "body": "Fixed soon.", "components": []},
    )
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.subject == "Card payments failing (update)"
    assert world.responder in notice.writers.all()


def test_a_notice_in_review_is_read_only(client, world):
    notice = submitted(world)
    response = as_(client, world.support).get(page(notice))
    assert response.context["has_change_permission"] is False
    assert client.post(page(notice), {"subject": "x", "body": "y"}).status_code == 403


# --- the buttons ------------------------------------------------------------------------------


def test_each_person_sees_only_the_steps_they_may_take(client, world):
    notice = drafted(world)
    assert button_names(as_(client, world.support).get(page(notice))) == {"submit"}
    assert button_names(as_(client, world.leader).get(page(notice))) == set()

    notices.submit(notice=notice, user=world.support)
    assert button_names(as_(client, world.support).get(page(notice))) == set()
    assert button_names(as_(client, world.manager).get(page(notice))) == {"approve", "send_back"}
    assert button_names(as_(client, world.lead).get(page(notice))) == {"approve", "send_back"}
    # The responder leads another incident's communications, not this one's.
    assert button_names(as_(client, world.responder).get(page(notice))) == set()
    # No legal review is needed for an outage: the lawyer may only send it back.
    assert button_names(as_(client, world.lawyer).get(page(notice))) == {"send_back"}

    notices.approve(notice=notice, user=world.manager)
    assert button_names(as_(client, world.lead).get(page(notice))) == {"publish", "send_back"}
    assert button_names(as_(client, world.support).get(page(notice))) == set()


def test_the_writer_gets_no_approve_button(client, world):
    notice = submitted(world, by=world.manager)
    assert button_names(as_(client, world.manager).get(page(notice))) == {"send_back"}
    assert "approve" in button_names(as_(client, world.manager2).get(page(notice)))


def test_the_legal_reviewer_gets_the_legal_button_where_it_is_needed(client, world):
    incident_services.incident_update(
        incident=world.incident, user=world.manager, data={"incident_type": world.security}
    )
    notice = approved(world)
    html_page = as_(client, world.lawyer).get(page(notice))
    assert button_names(html_page) == {"legal_approve", "send_back"}
    assert (
        "needed: Security Breach incidents ask for a legal reviewer" in html_page.content.decode()
    )
    # Approved by the manager but not cleared: nobody may publish yet.
    assert "publish" not in button_names(as_(client, world.manager2).get(page(notice)))


def test_a_manager_approves_and_publishes_with_the_buttons(client, world):
    notice = submitted(world)
    as_(client, world.manager)
    response = client.post(page(notice, "approve"), follow=True)
    assert "“Card payments failing for some merchants” approved." in messages_of(response)
    response = client.post(page(notice, "publish"), follow=True)
    assert "“Card payments failing for some merchants” published." in messages_of(response)
    notice.refresh_from_db()
    assert (notice.status, notice.published_by) == (Status.PUBLISHED, world.manager)
    assert list(Notice.objects.public()) == [notice]


def test_a_refused_step_is_an_error_message_and_changes_nothing(client, world):
    notice = approved(world)
    response = as_(client, world.support).post(page(notice, "publish"), follow=True)
    assert response.status_code == 200
    assert any("Only incident managers and" in m for m in messages_of(response))
    assert Notice.objects.get().status == Status.APPROVED
    # A step URL opened (GET) goes back to the notice's page.
    assert as_(client, world.manager).get(page(notice, "publish"))["Location"] == page(notice)


def test_send_back_asks_for_a_comment_and_keeps_it(client, world):
    notice = submitted(world)
    as_(client, world.manager)
    assert client.get(page(notice, "send-back")).status_code == 200
    response = client.post(page(notice, "send-back"), {"comment": ""})
    assert response.context["form"].errors == {"comment": ["This field is required."]}
    response = client.post(
        page(notice, "send-back"), {"comment": "Say when the next update is."}, follow=True
    )
    assert "“Card payments failing for some merchants” sent back to draft." in messages_of(response)
    notice.refresh_from_db()
    assert notice.status == Status.DRAFT
    html = as_(client, world.support).get(page(notice)).content.decode()
    assert "Say when the next update is." in html
    # Support cannot send back.
    notices.submit(notice=notice, user=world.support)
    assert as_(client, world.support).get(page(notice, "send-back")).status_code == 403


def test_list_actions_run_the_service_for_each_and_report_refusals(client, world):
    mine = submitted(world, by=world.manager, subject="Mine")
    theirs = submitted(world, subject="Theirs")
    as_(client, world.manager)
    response = client.post(
        LIST,
        {"action": "approve_selected", "_selected_action": [mine.pk, theirs.pk]},
        follow=True,
    )
    shown = messages_of(response)
    assert "“Theirs” approved." in shown
    assert "“Mine”: You wrote or changed this notice; someone else must approve it." in shown
    assert Notice.objects.get(pk=theirs.pk).status == Status.APPROVED
    assert Notice.objects.get(pk=mine.pk).status == Status.IN_REVIEW


def test_support_has_no_approve_or_publish_action(client, world):
    drafted(world)
    actions = as_(client, world.support).get(LIST).context["action_form"].fields["action"]
    names = {name for name, _ in actions.choices}
    assert "submit_selected" in names
    assert not names & {"approve_selected", "publish_selected", "legal_approve_selected"}
    assert "delete_selected" not in names


def test_deleting_a_draft_discards_it_on_the_record(client, world):
    notice = drafted(world)
    as_(client, world.support)
    response = client.post(f"/admin/comms/notice/{notice.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Notice.objects.exists()
    assert TimelineEntry.objects.filter(data__step="discarded").count() == 1
    # Only drafts: a submitted notice has no delete.
    other = submitted(world)
    assert (
        client.post(f"/admin/comms/notice/{other.pk}/delete/", {"post": "yes"}).status_code == 403
    )


def test_the_history_page_opens_and_reverts_are_refused(client, world):
    notice = approved(world)
    as_(client, world.manager)
    assert client.get(f"/admin/comms/notice/{notice.pk}/history/").status_code == 200
    version = notice.history.earliest().history_id
    url = f"/admin/comms/notice/{notice.pk}/history/{version}/"
    assert client.post(url, {}).status_code == 403


# --- internal routes --------------------------------------------------------------------------


def test_managers_say_where_internal_updates_go(client, world):
    channel = NotificationEndpoint.objects.create(
        name="Incidents channel", kind="chat", target="https://chat.example.com/hook"
    )
    as_(client, world.manager)
    response = client.post(
        "/admin/comms/internalroute/add/", {"endpoint": channel.pk, "team": world.payments.pk}
    )
    assert response.status_code == 302
    route = InternalRoute.objects.get()
    assert route.scope == "incidents affecting Payments's services"
    assert route.history.latest().history_user == world.manager
    # One scope at most.
    response = client.post(
        "/admin/comms/internalroute/add/",
        {"endpoint": channel.pk, "team": world.payments.pk, "service": world.api.pk},
    )
    assert response.status_code == 200 and InternalRoute.objects.count() == 1
    assert as_(client, world.support).get("/admin/comms/internalroute/").status_code == 403
    assert as_(client, world.responder).get("/admin/comms/internalroute/add/").status_code == 403


def test_the_notice_page_lists_the_routes_it_will_reach(client, world):
    channel = NotificationEndpoint.objects.create(
        name="Incidents channel", kind="chat", target="https://chat.example.com/hook"
    )
    InternalRoute.objects.create(endpoint=channel)
    notice = drafted(world, audience="internal")
    html = as_(client, world.support).get(page(notice)).content.decode()
    assert "Incidents channel, Payments (payments@example.com)." in html


def test_admin_urls_are_named(world):
    notice = drafted(world)
    assert reverse("admin:comms_notice_send_back", args=[notice.pk]) == page(notice, "send-back")
    assert reverse("admin:comms_notice_legal_approve", args=[notice.pk]) == page(
        notice, "legal-approve"
    )
