"""The review of a notice: who drafts, submits, approves, gives the legal approval, sends back
and publishes (comms.permissions through comms.services.notices), and what each step leaves
in the history and on the incident's timeline."""

import pytest

from comms.models import Notice, NoticeComment
from comms.permissions import NotAllowed
from comms.services import notices
from incidents import services as incident_services
from incidents.models import RoleAssignment, TimelineEntry
from ircore.errors import ConflictError, RuleError
from ircore.models import Delivery

from .noticekit import *  # noqa: F403
from .noticekit import INTERNAL, Status, approved, at, drafted, submitted

pytestmark = pytest.mark.django_db


def entries(notice):
    pk = notice if isinstance(notice, int) else notice.pk
    return list(
        TimelineEntry.objects.filter(data__notice=pk)
        .order_by("occurred_at", "id")
        .values_list("data__step", "text")
    )


# --- drafting and editing -------------------------------------------------------------------


def test_support_drafts_a_customer_notice_on_the_record(world):
    notice = drafted(world)

    assert notice.status == Status.DRAFT
    assert notice.created_by == world.support
    assert list(notice.writers.all()) == [world.support]
    record = notice.history.earliest()
    assert (record.history_user, record.history_change_reason) == (world.support, "drafted")
    assert entries(notice) == [
        ("drafted", "sue drafted the customer notice “Card payments failing for some merchants”")
    ]
    entry = TimelineEntry.objects.get(data__notice=notice.pk)
    assert (entry.kind, entry.author, entry.occurred_at) == ("notice", world.support, at(5))


def test_internal_updates_go_on_the_timeline_as_updates(world):
    notice = drafted(world, audience=INTERNAL)
    assert TimelineEntry.objects.get(data__notice=notice.pk).kind == "update"


def test_customer_components_default_to_the_public_affected_services(world):
    notice = drafted(world)
    # Payments API is affected and public; the Ledger DB is affected but internal.
    assert list(notice.components.all()) == [world.api]


def test_a_customer_notice_never_names_an_internal_service(world):
    with pytest.raises(RuleError) as refused:
        drafted(world, components=[world.api, world.ledger])
    assert refused.value.field == "components"
    assert "Ledger DB" in refused.value.message
    assert not Notice.objects.exists()


def test_only_customer_notices_name_components(world):
    with pytest.raises(RuleError) as refused:
        drafted(world, audience=INTERNAL, components=[world.api])
    assert refused.value.field == "components"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("subject", "   ", "A notice needs a subject."),
        ("body", "", "A notice needs a body."),
        ("subject", "x" * 301, "At most 300 characters (this has 301)."),
        ("body", "a\x00b", "Null characters are not allowed."),
    ],
)
def test_bad_text_is_refused_naming_the_field(world, field, value, reason):
    with pytest.raises(RuleError) as refused:
        drafted(world, **{field: value})
    assert (refused.value.field, refused.value.message) == (field, reason)


def test_a_draft_needs_an_audience(world):
    with pytest.raises(RuleError) as refused:
        drafted(world, audience="press")
    assert refused.value.field == "audience"


def test_leadership_and_outsiders_do_not_draft(world):
    for person in (world.leader, world.outsider, world.lawyer):
        with pytest.raises(NotAllowed):
            drafted(world, by=person)


def test_editing_a_draft_makes_the_editor_a_writer(world):
    notice = drafted(world)
    notices.update(notice=notice, user=world.manager, body="We found the cause.")

    notice.refresh_from_db()
    assert notice.body == "We found the cause."
    assert set(notice.writers.all()) == {world.support, world.manager}
    assert notice.history.latest().history_change_reason == "edited body"


def test_only_drafts_change(world):
    notice = submitted(world)
    with pytest.raises(ConflictError) as refused:
        notices.update(notice=notice, user=world.support, subject="Better subject")
    assert "sends it back to draft" in refused.value.message
    assert Notice.objects.get().subject == "Card payments failing for some merchants"


def test_a_draft_is_discarded_but_stays_on_the_record(world):
    notice = drafted(world)
    pk = notice.pk
    notices.discard(notice=notice, user=world.support, now=at(6))

    assert not Notice.objects.exists()
    assert Notice.history.filter(id=pk).latest().history_type == "-"
    assert [step for step, _ in entries(pk)] == ["drafted", "discarded"]


# --- approving --------------------------------------------------------------------------------


def test_a_manager_approves_what_support_submitted(world):
    notice = submitted(world)
    assert notice.status == Status.IN_REVIEW
    assert (notice.submitted_by, notice.submitted_at) == (world.support, at(6))

    notices.approve(notice=notice, user=world.manager, now=at(7))

    assert notice.status == Status.APPROVED
    assert (notice.approved_by, notice.approved_at) == (world.manager, at(7))
    assert [step for step, _ in entries(notice)] == ["drafted", "submitted", "approved"]


def test_support_neither_approves_nor_publishes(world):
    notice = submitted(world)
    with pytest.raises(NotAllowed) as refused:
        notices.approve(notice=notice, user=world.support)
    assert refused.value.status_code == 403
    # Even someone else's notice.
    other = submitted(world, by=world.responder)
    with pytest.raises(NotAllowed):
        notices.approve(notice=other, user=world.support)
    notices.approve(notice=other, user=world.manager)
    with pytest.raises(NotAllowed) as refused:
        notices.publish(other, user=world.support)
    assert "Only incident managers and" in refused.value.message
    assert Notice.objects.get(pk=other.pk).status == Status.APPROVED


def test_support_as_communications_lead_still_cannot_approve_or_publish(world):
    incident_services.role_assign(
        incident=world.incident,
        role=RoleAssignment.Role.COMMS_LEAD,
        user=world.support,
        by=world.manager,
        now=at(2),
    )
    notice = submitted(world, by=world.responder)
    with pytest.raises(NotAllowed):
        notices.approve(notice=notice, user=world.support)
    notices.approve(notice=notice, user=world.manager)
    with pytest.raises(NotAllowed):
        notices.publish(notice, user=world.support)


def test_nobody_approves_their_own_notice(world):
    notice = submitted(world, by=world.manager)
    with pytest.raises(NotAllowed) as refused:
        notices.approve(notice=notice, user=world.manager)
    assert refused.value.message == (
        "You wrote or changed this notice; someone else must approve it."
    )
    notices.approve(notice=notice, user=world.manager2)
    assert notice.status == Status.APPROVED


def test_an_editor_is_a_writer_and_may_not_approve_either(world):
    notice = drafted(world)
    notices.update(notice=notice, user=world.manager, subject="Card payments are failing")
    notices.submit(notice=notice, user=world.support)
    with pytest.raises(NotAllowed):
        notices.approve(notice=notice, user=world.manager)


def test_the_incidents_communications_lead_approves_and_publishes(world):
    notice = submitted(world)
    notices.approve(notice=notice, user=world.lead, now=at(7))
    notices.publish(notice, user=world.lead, now=at(8))
    assert (notice.status, notice.published_by) == (Status.PUBLISHED, world.lead)


def test_the_communications_lead_of_another_incident_may_not(world):
    # The cast's responder leads the other incident's communications, not this one's.
    notice = submitted(world)
    with pytest.raises(NotAllowed) as refused:
        notices.approve(notice=notice, user=world.responder)
    assert refused.value.message == (
        f"Only incident managers and {world.incident.reference}'s Communications Lead "
        "approve its notices."
    )
    on_theirs = submitted(world, incident=world.other)
    notices.approve(notice=on_theirs, user=world.responder)
    assert on_theirs.status == Status.APPROVED


def test_a_relieved_communications_lead_no_longer_approves(world):
    assignment = RoleAssignment.objects.get(incident=world.incident, user=world.lead)
    incident_services.role_relieve(assignment=assignment, by=world.manager, now=at(3))
    notice = submitted(world)
    with pytest.raises(NotAllowed):
        notices.approve(notice=notice, user=world.lead)


def test_approving_twice_or_out_of_turn_is_a_conflict(world):
    draft = drafted(world)
    with pytest.raises(ConflictError) as refused:
        notices.approve(notice=draft, user=world.manager)
    assert refused.value.message == "Only a notice in review is approved; this one is draft."
    notice = approved(world)
    with pytest.raises(ConflictError):
        notices.approve(notice=notice, user=world.manager2)


def test_publishing_needs_an_approval(world):
    notice = submitted(world)
    with pytest.raises(ConflictError) as refused:
        notices.publish(notice, user=world.manager)
    assert refused.value.message == "Only an approved notice is published; this one is in review."


# --- legal review -----------------------------------------------------------------------------


@pytest.fixture
def security_incident(world):
    incident_services.incident_update(
        incident=world.incident, user=world.manager, data={"incident_type": world.security}
    )
    world.incident.refresh_from_db()
    return world.incident


def test_a_security_notice_waits_for_a_legal_reviewer(world, security_incident):
    notice = submitted(world)
    notices.approve(notice=notice, user=world.manager, now=at(7))

    # Approved by the manager, but not yet approved: it still needs legal review.
    assert notice.status == Status.IN_REVIEW
    with pytest.raises(ConflictError):
        notices.publish(notice, user=world.manager)

    notices.legal_approve(notice=notice, user=world.lawyer, now=at(8))
    assert notice.status == Status.APPROVED
    assert (notice.legal_approved_by, notice.legal_approved_at) == (world.lawyer, at(8))
    notices.publish(notice, user=world.manager, now=at(9))
    assert notice.status == Status.PUBLISHED
    assert [step for step, _ in entries(notice)] == [
        "drafted",
        "submitted",
        "approved",
        "legal_approved",
        "published",
    ]
    texts = dict(entries(notice))
    assert texts["approved"].endswith("; it awaits a legal reviewer")


def test_the_legal_approval_may_come_first(world, security_incident):
    notice = submitted(world)
    notices.legal_approve(notice=notice, user=world.lawyer)
    assert notice.status == Status.IN_REVIEW
    notices.approve(notice=notice, user=world.manager)
    assert notice.status == Status.APPROVED


def test_only_legal_reviewers_give_the_legal_approval(world, security_incident):
    notice = submitted(world)
    for person in (world.manager, world.support, world.lead):
        with pytest.raises(NotAllowed) as refused:
            notices.legal_approve(notice=notice, user=person)
        assert refused.value.message == "Only legal reviewers give a notice its legal approval."


def test_a_legal_reviewer_does_not_clear_their_own_notice(world, security_incident, cast):
    # A manager who is also a legal reviewer writes a notice: another lawyer must clear it.
    from django.contrib.auth.models import Group

    world.manager2.groups.add(Group.objects.get(name="Legal reviewers"))
    notice = submitted(world, by=world.manager2)
    with pytest.raises(NotAllowed) as refused:
        notices.legal_approve(notice=notice, user=world.manager2)
    assert "another legal reviewer" in refused.value.message


def test_the_approver_is_not_also_the_legal_reviewer(world, security_incident):
    from django.contrib.auth.models import Group

    world.manager2.groups.add(Group.objects.get(name="Legal reviewers"))
    notice = submitted(world)
    notices.approve(notice=notice, user=world.manager2)
    with pytest.raises(NotAllowed) as refused:
        notices.legal_approve(notice=notice, user=world.manager2)
    assert (
        refused.value.message == "You approved this notice; its legal review needs a second person."
    )
    notices.legal_approve(notice=notice, user=world.lawyer)
    assert notice.status == Status.APPROVED


def test_a_notice_of_an_ordinary_incident_needs_no_legal_review(world):
    notice = submitted(world)
    with pytest.raises(ConflictError) as refused:
        notices.legal_approve(notice=notice, user=world.lawyer)
    assert refused.value.message == (
        "This notice needs no legal review: Service Outage incidents do not ask for one."
    )


def test_a_type_that_asks_for_legal_review_after_approval_still_stops_the_publish(world):
    notice = approved(world)
    incident_services.incident_update(
        incident=world.incident, user=world.manager, data={"incident_type": world.security}
    )
    with pytest.raises(ConflictError) as refused:
        notices.publish(notice, user=world.manager)
    assert "need a legal reviewer's approval" in refused.value.message
    notices.legal_approve(notice=notice, user=world.lawyer)
    notices.publish(notice, user=world.manager)
    assert Notice.objects.get().status == Status.PUBLISHED


def test_the_legal_reviewers_are_asked_when_it_is_submitted(world, security_incident):
    submitted(world)
    asked = set(
        Delivery.objects.filter(subject__startswith="To review:").values_list(
            "recipient__username", flat=True
        )
    )
    # The incident's Communications Lead and the legal reviewer; not the submitter.
    assert asked == {"cleo", "lara"}


# --- sending back -----------------------------------------------------------------------------


def test_sent_back_with_a_comment_the_review_starts_again(world):
    notice = approved(world)
    notices.send_back(
        notice=notice, user=world.manager, comment="Name the card networks.", now=at(8)
    )

    assert notice.status == Status.DRAFT
    assert (notice.submitted_at, notice.approved_by, notice.approved_at) == (None, None, None)
    comment = NoticeComment.objects.get()
    assert (comment.author, comment.text, comment.from_status) == (
        world.manager,
        "Name the card networks.",
        Status.APPROVED,
    )
    assert entries(notice)[-1] == (
        "sent_back",
        "mia sent the customer notice “Card payments failing for some merchants” back to "
        "draft: Name the card networks.",
    )
    assert notice.history.latest().history_change_reason == "sent back to draft"
    # The person who submitted it is told why.
    told = Delivery.objects.get(subject__startswith="Sent back:")
    assert told.recipient == world.support and "Name the card networks." in told.body

    notices.update(notice=notice, user=world.support, body="Visa and Mastercard payments fail.")
    notices.submit(notice=notice, user=world.support)
    notices.approve(notice=notice, user=world.manager)
    assert notice.status == Status.APPROVED


def test_sending_back_needs_a_comment_and_a_reviewer(world):
    notice = submitted(world)
    with pytest.raises(RuleError) as refused:
        notices.send_back(notice=notice, user=world.manager, comment="  ")
    assert (refused.value.field, refused.value.message) == ("comment", "Say what should change.")
    with pytest.raises(NotAllowed):
        notices.send_back(notice=notice, user=world.support, comment="Withdrawn")
    notices.send_back(notice=notice, user=world.lawyer, comment="Do not say 'breach'.")
    assert notice.status == Status.DRAFT


def test_a_published_notice_is_not_sent_back(world):
    notice = approved(world)
    notices.publish(notice, user=world.manager)
    with pytest.raises(ConflictError):
        notices.send_back(notice=notice, user=world.manager, comment="Too late")


def test_every_step_is_in_the_history_with_who(world):
    notice = approved(world)
    notices.send_back(notice=notice, user=world.manager, comment="Shorter, please.")
    notices.update(notice=notice, user=world.support, body="Card payments fail.")
    notices.submit(notice=notice, user=world.support)
    notices.approve(notice=notice, user=world.manager)
    notices.publish(notice, user=world.manager)

    steps = [
        (row.history_change_reason, row.history_user.username)
        for row in notice.history.order_by("history_date", "history_id")
        if row.history_change_reason
    ]
    assert steps == [
        ("drafted", "sue"),
        ("components set", "sue"),
        ("submitted for review", "sue"),
        ("approved", "mia"),
        ("sent back to draft", "mia"),
        ("edited body", "sue"),
        ("submitted for review", "sue"),
        ("approved", "mia"),
        ("published", "mia"),
    ]
