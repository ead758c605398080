"""Personal notification rules: a page follows its person's rules until it stops notifying.

Alice's rules are the issue's example: e-mail at once, chat after 2 minutes, a webhook (her
SMS gateway) after 5. Time is frozen by passing ``now=``; the reconciler is run by hand.
Pages are made directly (the engine makes them in production and calls ``page_notify``).
"""

import pytest
from django.db import connection

from incidents import services as incidents
from incidents.models import TimelineEntry
from ircore.models import Delivery, Service
from oncall.acklinks import ack_link_verify
from oncall.models import Page, PageAttempt
from oncall.services.contact import page_attempts_send_due, page_notify

from .test_contact_fixtures import *  # noqa: F403  (the fixtures)
from .test_contact_fixtures import HOOK, MIN, T0, race, sent


def test_rules_page_by_email_at_once_chat_after_two_minutes_and_webhook_after_five(
    crew, alice_rules, make_page
):
    page = make_page(crew.alice)
    attempts = page_notify(page=page, now=T0)
    assert [(a.kind, a.due_at) for a in attempts] == [
        ("email", None),
        ("chat", T0 + 2 * MIN),
        ("webhook", T0 + 5 * MIN),
    ]
    assert sent(page) == [("email", "alice@pager.example")]
    page.refresh_from_db()
    assert page.status == Page.Status.SENT and page.delivery.target == "alice@pager.example"

    assert page_attempts_send_due(now=T0 + 1 * MIN) == 0
    assert page_attempts_send_due(now=T0 + 2 * MIN) == 1
    assert sent(page)[-1] == ("chat", "@alice")
    assert page_attempts_send_due(now=T0 + 4 * MIN) == 0
    assert page_attempts_send_due(now=T0 + 5 * MIN) == 1
    assert sent(page) == [
        ("email", "alice@pager.example"),
        ("chat", "@alice"),
        ("webhook", HOOK),
    ]
    assert not PageAttempt.objects.filter(due_at__isnull=False).exists()


def test_acknowledging_after_three_minutes_stops_the_webhook(
    crew, alice_rules, make_page, incident
):
    page = make_page(crew.alice)
    page_notify(page=page, now=T0)
    assert page_attempts_send_due(now=T0 + 2 * MIN) == 1
    incidents.incident_acknowledge(incident=incident, user=crew.alice, now=T0 + 3 * MIN)

    assert page_attempts_send_due(now=T0 + 5 * MIN) == 0
    assert [kind for kind, _ in sent(page)] == ["email", "chat"]
    webhook = page.attempts.get(kind="webhook")
    assert webhook.due_at is None and webhook.sent_at is None and webhook.delivery is None
    assert webhook.stopped_at == T0 + 5 * MIN
    assert webhook.stop_reason == "Not sent: the incident is acknowledged already."
    assert page_attempts_send_due(now=T0 + 60 * MIN) == 0  # nothing left to look at


def test_an_acknowledged_or_stopped_page_sends_nothing_more(crew, alice_rules, make_page):
    page = make_page(crew.alice)
    page_notify(page=page, now=T0)
    Page.objects.filter(pk=page.pk).update(status=Page.Status.STOPPED, stop_reason="Policy edit")
    assert page_attempts_send_due(now=T0 + 10 * MIN) == 0
    reasons = set(page.attempts.filter(sent_at__isnull=True).values_list("stop_reason", flat=True))
    assert reasons == {"Not sent: the page was stopped (Policy edit)."}


def test_a_step_unless_resolved_keeps_paging_after_an_ack_and_stops_on_resolution(
    crew, alice_rules, make_page, incident
):
    page = make_page(crew.alice, unless="resolved")
    page_notify(page=page, now=T0)
    incidents.incident_acknowledge(incident=incident, user=crew.alice, now=T0 + 1 * MIN)
    assert page_attempts_send_due(now=T0 + 2 * MIN) == 1  # chat still goes
    incidents.incident_set_status(
        incident=incident, status="investigating", user=crew.alice, now=T0 + 3 * MIN
    )
    incidents.incident_set_status(
        incident=incident, status="resolved", user=crew.alice, now=T0 + 4 * MIN
    )
    assert page_attempts_send_due(now=T0 + 5 * MIN) == 0
    assert page.attempts.get(kind="webhook").stop_reason.startswith("Not sent: the incident")


def test_without_rules_a_person_is_emailed_at_once_at_their_account_address(crew, make_page):
    page = make_page(crew.bob)
    (attempt,) = page_notify(page=page, now=T0)
    assert (attempt.kind, attempt.target, attempt.rule) == ("email", "bob@example.com", None)
    assert sent(page) == [("email", "bob@example.com")]
    assert page_attempts_send_due(now=T0 + 60 * MIN) == 0


def test_a_person_without_address_or_rules_gets_a_failed_delivery_saying_why(
    crew, make_page, incident
):
    crew.bob.email = ""
    crew.bob.save()
    page = make_page(crew.bob)
    page_notify(page=page, now=T0)
    delivery = Delivery.objects.get(page_attempts__page=page)
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.recipient == crew.bob
    assert "bob has no email address and no notification rules" in delivery.last_error
    page.refresh_from_db()
    assert page.status == Page.Status.FAILED and page.delivery == delivery
    entry = incident.timeline.filter(kind=TimelineEntry.Kind.PAGE).get()
    assert "Could not page Bob Test by e-mail" in entry.text


def test_a_chat_rule_without_the_chat_webhook_is_a_failed_delivery_with_the_reason(
    crew, alice_rules, make_page, settings
):
    settings.CHAT_WEBHOOK_URL = ""
    page = make_page(crew.alice)
    page_notify(page=page, now=T0)
    page_attempts_send_due(now=T0 + 2 * MIN)
    chat = page.attempts.get(kind="chat").delivery
    assert chat.status == Delivery.Status.FAILED
    assert "CHAT_WEBHOOK_URL is not set" in chat.last_error
    page.refresh_from_db()
    assert page.status == Page.Status.SENT  # the e-mail went; the page is not a failure


def test_each_message_carries_the_incident_the_step_and_both_links(
    crew, alice_rules, make_page, incident, settings
):
    settings.SITE_URL = "https://ir.example.com"
    page = make_page(crew.alice, step=2, repeat=1, target_label="Engineering manager")
    page_notify(page=page, now=T0)
    page_attempts_send_due(now=T0 + 5 * MIN)
    rows = list(Delivery.objects.filter(page_attempts__page=page))
    assert len(rows) == 3
    for row in rows:
        text = row.subject + "\n" + row.body
        assert incident.reference in row.subject and "Card payments failing" in row.subject
        assert "SEV-1" in text and "Critical" in text
        assert "step 2, round 2 (Engineering manager)" in text
        assert "DRILL" not in text
        assert f"https://ir.example.com/admin/incidents/incident/{incident.pk}/change/" in text
        ack = next(line for line in row.body.splitlines() if line.startswith("Acknowledge: "))
        url = ack.removeprefix("Acknowledge: ")
        assert url.startswith("https://ir.example.com/oncall/ack/")
        token = url.rstrip("/").rsplit("/", 1)[1]
        claim = ack_link_verify(
            token, user=crew.alice, incident=incident, page=page, now=T0 + 6 * MIN
        )
        assert claim.page_id == page.pk
        assert row.payload["acknowledge_url"] == url


def test_a_drill_page_says_drill(crew, make_page, sev):
    api = Service.objects.create(name="Settlement", slug="settlement")
    drill = incidents.incident_declare(
        title="Game day", severity=sev, services=[api], is_drill=True, user=crew.boss, now=T0
    )
    page = make_page(crew.bob, of=drill, is_drill=True)
    page_notify(page=page, now=T0)
    row = Delivery.objects.get(page_attempts__page=page)
    assert row.subject.startswith("DRILL: Page: ")
    assert row.body.startswith("DRILL: ")


def test_page_notify_twice_plans_and_sends_once(crew, alice_rules, make_page):
    page = make_page(crew.alice)
    page_notify(page=page, now=T0)
    again = page_notify(page=page, now=T0 + 3 * MIN)  # a retried engine transaction
    assert len(again) == 3 and page.attempts.count() == 3
    # The second call sent the chat attempt that had come due, and nothing twice.
    assert [kind for kind, _ in sent(page)] == ["email", "chat"]


def test_the_reconciler_twice_sends_each_attempt_once(crew, alice_rules, make_page):
    pages = [make_page(crew.alice, step=n) for n in (1, 2, 3)]
    for page in pages:
        page_notify(page=page, now=T0)
    assert page_attempts_send_due(now=T0 + 10 * MIN) == 6
    assert page_attempts_send_due(now=T0 + 10 * MIN) == 0
    assert Delivery.objects.count() == 9
    assert PageAttempt.objects.filter(delivery__isnull=True).count() == 0


def test_attempts_start_from_when_the_page_went_out(crew, alice_rules, make_page):
    late = make_page(crew.alice, due_at=T0, paged_at=T0 + 7 * MIN)  # the tick was late
    attempts = page_notify(page=late, now=T0 + 7 * MIN)
    assert [a.due_at for a in attempts][1:] == [T0 + 9 * MIN, T0 + 12 * MIN]


def test_later_attempts_are_on_the_timeline(crew, alice_rules, make_page, incident):
    page = make_page(crew.alice)
    page_notify(page=page, now=T0)
    page_attempts_send_due(now=T0 + 2 * MIN)
    entry = incident.timeline.filter(kind=TimelineEntry.Kind.PAGE).get()
    assert entry.text == (
        "Paged Alice Test again by chat, 2 min after the page, as their rules say."
    )
    assert entry.occurred_at == T0 + 2 * MIN


def test_the_reconciler_reads_only_what_is_due(
    crew, alice_rules, make_page, django_assert_max_num_queries
):
    for step in range(1, 21):
        page_notify(page=make_page(crew.alice, step=step), now=T0)
    # Nothing due yet: one query for the due list, whatever is pending.
    with django_assert_max_num_queries(1):
        assert page_attempts_send_due(now=T0 + 1 * MIN) == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks; SQLite serialises writers on one file lock, "
    "so two racing reconcilers prove nothing there",
)
@pytest.mark.django_db(transaction=True)
def test_two_reconcilers_racing_send_each_attempt_once(crew, alice_rules, make_page):
    pages = [make_page(crew.alice, step=n) for n in range(1, 11)]
    for page in pages:
        page_notify(page=page, now=T0)
    results, errors = race([lambda: page_attempts_send_due(now=T0 + 10 * MIN)] * 4)
    assert errors == [None] * 4
    assert sum(results) == 20
    assert Delivery.objects.count() == 30
    keys = list(Delivery.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys))
