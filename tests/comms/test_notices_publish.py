"""Publishing: each audience reaches the right channels, each once, through the delivery log;
customer notices reach the status page, their subscribers and the cadence record; a drill
reaches nobody; a retried publish sends nothing twice."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from comms.models import InternalRoute, Notice, Subscriber, UpdateDue
from comms.services import cadence, notice_sends, notices
from incidents import services as incident_services
from incidents.models import RoleAssignment, TimelineEntry
from ircore import roles
from ircore.errors import ConflictError
from ircore.models import Delivery, NotificationEndpoint, Team

from .noticekit import *  # noqa: F403
from .noticekit import CUSTOMERS, EXECUTIVES, INTERNAL, T0, Status, approved, at

pytestmark = pytest.mark.django_db


def endpoint(name, kind="chat", target=None, active=True):
    target = target or (
        f"https://chat.example.com/{name}" if kind == "chat" else f"{name}@example.com"
    )
    return NotificationEndpoint.objects.create(name=name, kind=kind, target=target, active=active)


def sent(notice):
    """(target, subject) of every message the notice wrote, sorted."""
    rows = Delivery.objects.filter(dedupe_key__startswith=f"comms.notice:{notice.pk}:")
    return sorted(rows.exclude(subject__startswith="To review").values_list("target", "subject"))


def published_entry(notice):
    return TimelineEntry.objects.get(data__notice=notice.pk, data__step="published")


# --- internal updates -------------------------------------------------------------------------


@pytest.fixture
def routes(world):
    """One route of each scope that matches the incident, two that do not, and an endpoint
    named twice."""
    everywhere = endpoint("incidents-channel")
    payments = endpoint("payments-oncall", kind="email")
    api = endpoint("api-channel")
    bridge = endpoint("bridge-channel")
    elsewhere = endpoint("platform-channel")
    off = endpoint("retired-channel", active=False)
    InternalRoute.objects.create(endpoint=everywhere)
    InternalRoute.objects.create(endpoint=payments, team=world.payments)
    InternalRoute.objects.create(endpoint=api, service=world.api)
    InternalRoute.objects.create(endpoint=api, team=world.payments)  # the same endpoint again
    InternalRoute.objects.create(endpoint=bridge, incident=world.incident)
    InternalRoute.objects.create(endpoint=elsewhere, team=world.platform)
    InternalRoute.objects.create(endpoint=elsewhere, incident=world.other)
    InternalRoute.objects.create(endpoint=off)
    return world


def test_an_internal_update_reaches_every_matching_route_and_the_team_list_once(routes):
    world = routes
    notice = approved(world, audience=INTERNAL, subject="Update: rolling back v2.32")

    notices.publish(notice, user=world.manager, now=at(10))

    subject = "Update: rolling back v2.32"
    assert sent(notice) == [
        ("https://chat.example.com/api-channel", subject),
        ("https://chat.example.com/bridge-channel", subject),
        ("https://chat.example.com/incidents-channel", subject),
        ("payments-oncall@example.com", subject),
        ("payments@example.com", subject),  # the Payments team's own address
    ]
    message = Delivery.objects.get(target="payments@example.com")
    assert message.body.startswith("We are **investigating** failed card payments.")
    assert world.incident.reference in message.body
    assert world.incident.channel_name in message.body
    assert message.payload["link"].endswith(
        f"/admin/incidents/incident/{world.incident.pk}/change/"
    )
    assert message.topic == f"incidents.incident:{world.incident.pk}"
    entry = published_entry(notice)
    assert entry.kind == "update"
    assert entry.text == (
        "mia published the internal update “Update: rolling back v2.32” to api-channel, "
        "bridge-channel, incidents-channel, payments-oncall and Payments (payments@example.com)"
    )


def test_an_endpoint_that_is_also_a_team_address_gets_one_message(world):
    payments_list = endpoint("payments-list", kind="email", target="Payments@Example.com")
    InternalRoute.objects.create(endpoint=payments_list)
    notice = approved(world, audience=INTERNAL)
    notices.publish(notice, user=world.manager)
    assert [target for target, _ in sent(notice)] == ["Payments@Example.com"]


def test_an_internal_update_nobody_receives_says_so(world):
    Team.objects.filter(pk=world.payments.pk).update(email="")
    notice = approved(world, audience=INTERNAL)
    notices.publish(notice, user=world.manager)
    assert sent(notice) == []
    assert published_entry(notice).text.endswith(
        "; it reached nobody: no internal route or team e-mail matches the incident"
    )


def test_a_retried_publish_sends_nothing_twice(routes):
    world = routes
    notice = approved(world, audience=INTERNAL)
    notices.publish(notice, user=world.manager)
    count = Delivery.objects.count()

    with pytest.raises(ConflictError) as refused:
        notices.publish(notice, user=world.manager)
    assert "published it already" in refused.value.message
    # Even writing the messages again (a second worker, a replay) adds none: dedupe keys.
    notice.refresh_from_db()
    notice_sends.send(notice)
    assert Delivery.objects.count() == count
    assert TimelineEntry.objects.filter(data__notice=notice.pk, data__step="published").count() == 1


# --- executive briefings ----------------------------------------------------------------------


def test_an_executive_briefing_reaches_leadership_and_the_sponsor_once_each(world, make_user):
    ceo = make_user("cara", roles.LEADERSHIP, first_name="Cara", last_name="Chief")
    sponsor = make_user("vic", roles.RESPONDERS, first_name="Vic", last_name="Vance")
    make_user("gone", roles.LEADERSHIP, is_active=False)
    for person in (sponsor, ceo):
        # A sponsor who is in Leadership too is told once.
        incident_services.role_assign(
            incident=world.incident,
            role=RoleAssignment.Role.EXECUTIVE_SPONSOR,
            user=person,
            by=world.manager,
        )
    first = RoleAssignment.objects.get(user=sponsor)
    assert first.relieved_at is not None  # handed over to the CEO
    notice = approved(world, audience=EXECUTIVES, subject="Briefing: card payments")

    notices.publish(notice, user=world.manager)

    assert sent(notice) == [
        ("cara@example.com", "Briefing: card payments"),
        ("leo@example.com", "Briefing: card payments"),
    ]
    assert published_entry(notice).text.endswith("to Cara Chief and leo")


def test_the_current_sponsor_is_told_even_outside_leadership(world, make_user):
    sponsor = make_user("vic", roles.RESPONDERS)
    incident_services.role_assign(
        incident=world.incident,
        role=RoleAssignment.Role.EXECUTIVE_SPONSOR,
        user=sponsor,
        by=world.manager,
    )
    notice = approved(world, audience=EXECUTIVES)
    notices.publish(notice, user=world.manager)
    assert [target for target, _ in sent(notice)] == ["leo@example.com", "vic@example.com"]


# --- customer notices -------------------------------------------------------------------------


def subscriber(target, *components):
    row = Subscriber.objects.create(
        kind="email", target=target, all_components=not components, confirmed_at=T0
    )
    row.components.set(components)
    return row


def test_a_customer_notice_goes_on_the_status_page_and_to_its_subscribers(world):
    subscriber("all@example.com")
    subscriber("api@example.com", world.api)
    subscriber("webhooks@example.com", world.webhooks)
    notice = approved(world)
    assert not Notice.objects.public().exists()

    notices.publish(notice, user=world.manager, now=at(10))

    assert list(Notice.objects.public()) == [notice]
    assert sorted(
        Delivery.objects.filter(dedupe_key__startswith=f"status:notice:{notice.pk}:").values_list(
            "target", flat=True
        )
    ) == ["all@example.com", "api@example.com"]
    # Nobody inside is messaged by a customer notice itself.
    assert sent(notice) == []
    entry = published_entry(notice)
    assert entry.kind == "notice"
    assert entry.text == (
        "mia published the customer notice “Card payments failing for some merchants” on the "
        "status page (Payments) and 2 subscribers"
    )
    assert entry.data["subscribers"] == 2


def test_publishing_settles_the_cadence_of_its_audience(world):
    # SEV-2 owes customers an update every 30 minutes from the declaration (planned by the
    # cadence's reconciler, as the declaration's signal would have).
    cadence.cadence_reconcile(incident_id=world.incident.pk, now=at(1))
    due = UpdateDue.objects.get(incident=world.incident, audience=CUSTOMERS, outcome="pending")
    assert due.due_at == T0 + timedelta(minutes=30)
    notice = approved(world)

    notices.publish(notice, user=world.manager, now=at(10))

    due.refresh_from_db()
    assert (due.outcome, due.sent_at, due.notice) == ("on_time", at(10), notice)


def test_an_executive_briefing_owes_no_cadence(world):
    notice = approved(world, audience=EXECUTIVES)
    notices.publish(notice, user=world.manager, now=at(10))
    assert not UpdateDue.objects.filter(notice=notice).exists()


def test_a_customer_notice_without_components_gets_the_affected_public_ones(world):
    notice = approved(world)
    notice.components.clear()
    notices.publish(notice, user=world.manager)
    assert list(notice.components.all()) == [world.api]


def test_a_drill_rehearses_the_review_and_tells_nobody(world):
    incident_services.incident_update(
        incident=world.incident, user=world.manager, data={"is_drill": True}
    )
    InternalRoute.objects.create(endpoint=endpoint("incidents-channel"))
    subscriber("all@example.com")
    customer, internal = approved(world), approved(world, audience=INTERNAL)

    notices.publish(customer, user=world.manager)
    notices.publish(internal, user=world.manager)

    assert customer.status == Status.PUBLISHED
    assert not Notice.objects.public().exists()
    assert not Delivery.objects.exclude(subject__startswith="To review").exists()
    assert published_entry(internal).text.endswith("(a drill: sent to nobody)")


def test_the_review_asks_the_communications_lead(world):
    approved(world)
    asked = Delivery.objects.get(subject__startswith="To review:")
    assert asked.recipient == world.lead
    assert asked.payload["link"].endswith("/change/")


def test_without_a_communications_lead_the_review_asks_the_ic(world):
    RoleAssignment.objects.filter(incident=world.incident).delete()
    incident_services.role_assign(
        incident=world.incident,
        role=RoleAssignment.Role.INCIDENT_COMMANDER,
        user=world.manager2,
        by=world.manager,
        override_reason="Only manager on shift",
    )
    approved(world)
    assert Delivery.objects.get(subject__startswith="To review:").recipient == world.manager2


def test_a_legal_reviewer_in_two_groups_is_asked_once(world):
    Group.objects.get(name=roles.LEGAL_REVIEWERS).user_set.add(world.lead)
    incident_services.incident_update(
        incident=world.incident, user=world.manager, data={"incident_type": world.security}
    )
    approved(world)
    asked = Delivery.objects.filter(subject__startswith="To review:")
    assert sorted(asked.values_list("recipient__username", flat=True)) == ["cleo", "lara"]
