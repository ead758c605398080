"""People manage their own contact methods and rules; a manager may manage anyone's.

Bad input is a ``RuleError`` naming the field, with nothing written; every change is in the
history, attributed to whoever made it. Also the kernel's ``notify_contact``, the one-method
send these pages use.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from ircore.errors import RuleError
from ircore.models import Delivery
from ircore.notifications import notify_contact
from oncall.models import ContactMethod, NotificationRule
from oncall.services.contact import (
    contact_method_create,
    contact_method_delete,
    contact_method_update,
    may_edit_contacts,
    notification_rule_set,
)

MIN = timedelta(minutes=1)


@pytest.fixture
def manager(crew):
    crew.boss.user_permissions.add(Permission.objects.get(codename="manage_contactmethod"))
    return type(crew.boss).objects.get(pk=crew.boss.pk)  # a fresh permission cache


def refused(field, call, **kwargs) -> str:
    with pytest.raises(RuleError) as caught:
        call(**kwargs)
    assert caught.value.field == field, caught.value.message
    return caught.value.message


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("email", "alice@pager.example"),
        ("chat", "@alice"),
        ("chat", "alice.smith"),
        ("webhook", "https://sms.example.com/send?to=447946000"),
    ],
)
def test_a_person_adds_a_valid_method_of_each_kind(crew, kind, target):
    method = contact_method_create(user=crew.alice, kind=kind, target=f" {target} ", by=crew.alice)
    assert (method.kind, method.target) == (kind, target)
    record = method.history.get()
    assert record.history_user == crew.alice and record.history_type == "+"


@pytest.mark.parametrize(
    ("kind", "target", "field", "says"),
    [
        ("email", "not-an-address", "target", "not a valid email address"),
        ("email", "", "target", "cannot be empty"),
        ("chat", "@ has spaces", "target", "not a chat handle"),
        ("webhook", "http://sms.example.com/hook", "target", "https URL"),
        ("webhook", "file:///etc/passwd", "target", "not an http(s) URL"),
        ("webhook", "https://x\x00y", "target", "Null characters"),
        ("pager", "123", "kind", "Choose one of"),
    ],
)
def test_a_bad_target_is_refused_naming_the_field_and_nothing_is_written(
    crew, kind, target, field, says
):
    message = refused(
        field, contact_method_create, user=crew.alice, kind=kind, target=target, by=crew.alice
    )
    assert says in message
    assert not ContactMethod.objects.exists()


def test_the_same_method_twice_is_refused(crew):
    contact_method_create(user=crew.alice, kind="chat", target="@alice", by=crew.alice)
    message = refused(
        "target",
        contact_method_create,
        user=crew.alice,
        kind="chat",
        target="@alice",
        by=crew.alice,
    )
    assert "already" in message


def test_nobody_edits_someone_elses_methods_but_a_manager(crew, manager):
    assert may_edit_contacts(crew.alice, crew.alice)
    assert not may_edit_contacts(crew.bob, crew.alice)
    assert may_edit_contacts(manager, crew.alice)
    refused("user", contact_method_create, user=crew.alice, kind="chat", target="@a", by=crew.bob)
    method = contact_method_create(user=crew.alice, kind="chat", target="@a", by=manager)
    assert method.history.get().history_user == manager
    refused("user", contact_method_update, method=method, label="x", by=crew.bob)
    refused("user", contact_method_delete, method=method, by=crew.bob)
    refused("user", notification_rule_set, user=crew.alice, rules=[], by=crew.bob)
    assert ContactMethod.objects.filter(pk=method.pk).exists()


def test_an_inactive_person_edits_nothing(crew):
    crew.alice.is_active = False
    assert not may_edit_contacts(crew.alice, crew.alice)


def test_update_validates_the_result_and_keeps_history(crew):
    method = contact_method_create(
        user=crew.alice, kind="email", target="a@x.example", by=crew.alice
    )
    refused("target", contact_method_update, method=method, kind="webhook", by=crew.alice)
    method.refresh_from_db()
    assert method.kind == "email"
    contact_method_update(method=method, target="b@x.example", label="home", by=crew.alice)
    method.refresh_from_db()
    assert (method.target, method.label) == ("b@x.example", "home")
    assert method.history.count() == 2


def test_rules_are_set_as_a_whole_keeping_what_did_not_change(crew):
    alice = crew.alice
    email = contact_method_create(user=alice, kind="email", target="a@x.example", by=alice)
    chat = contact_method_create(user=alice, kind="chat", target="@alice", by=alice)
    first = notification_rule_set(user=alice, rules=[(email, 0 * MIN), (chat, 2 * MIN)], by=alice)
    kept_pk = first[0].pk
    second = notification_rule_set(user=alice, rules=[(email, 0 * MIN), (chat, 5 * MIN)], by=alice)
    assert [(r.contact_method_id, r.delay) for r in second] == [
        (email.pk, 0 * MIN),
        (chat.pk, 5 * MIN),
    ]
    assert second[0].pk == kept_pk
    assert NotificationRule.objects.filter(user=alice).count() == 2
    deleted = NotificationRule.history.filter(history_type="-").get()
    assert deleted.delay == 2 * MIN and deleted.history_user == alice
    assert notification_rule_set(user=alice, rules=[], by=alice) == []
    assert not NotificationRule.objects.exists()


@pytest.mark.parametrize(
    ("delay", "says"),
    [(timedelta(seconds=-1), "Cannot be negative"), (timedelta(days=2), "At most 1 day")],
)
def test_a_rule_delay_out_of_bounds_is_refused(crew, delay, says):
    email = contact_method_create(
        user=crew.alice, kind="email", target="a@x.example", by=crew.alice
    )
    message = refused(
        "rules", notification_rule_set, user=crew.alice, rules=[(email, delay)], by=crew.alice
    )
    assert says in message
    assert not NotificationRule.objects.exists()


def test_a_rule_with_someone_elses_method_or_twice_the_same_is_refused(crew):
    bobs = contact_method_create(user=crew.bob, kind="email", target="b@x.example", by=crew.bob)
    mine = contact_method_create(user=crew.alice, kind="email", target="a@x.example", by=crew.alice)
    refused("rules", notification_rule_set, user=crew.alice, rules=[(bobs, 0 * MIN)], by=crew.alice)
    refused(
        "rules",
        notification_rule_set,
        user=crew.alice,
        rules=[(mine, MIN), (mine, MIN)],
        by=crew.alice,
    )
    assert not NotificationRule.objects.exists()


def test_deleting_a_method_deletes_its_rules_attributed(crew):
    alice = crew.alice
    chat = contact_method_create(user=alice, kind="chat", target="@alice", by=alice)
    notification_rule_set(user=alice, rules=[(chat, 2 * MIN)], by=alice)
    contact_method_delete(method=chat, by=alice)
    assert not ContactMethod.objects.exists() and not NotificationRule.objects.exists()
    assert NotificationRule.history.filter(history_type="-").get().history_user == alice
    assert ContactMethod.history.filter(history_type="-").get().history_user == alice


def test_a_webhook_is_shown_by_its_host_only(crew):
    hook = contact_method_create(
        user=crew.alice, kind="webhook", target="https://sms.example.com/k/SECRET", by=crew.alice
    )
    assert "SECRET" not in str(hook)
    assert hook.shown_target == "https://sms.example.com/…"


# --- The kernel's one-method send ------------------------------------------------------------


def test_notify_contact_writes_one_row_for_the_person_and_is_idempotent(crew, settings):
    settings.CHAT_WEBHOOK_URL = "https://chat.example.com/hook"
    first = notify_contact(
        recipient=crew.alice, channel="chat", target="@alice", subject="s", body="b", dedupe_key="k"
    )
    again = notify_contact(
        recipient=crew.alice, channel="chat", target="@alice", subject="s", body="b", dedupe_key="k"
    )
    assert first.pk == again.pk and Delivery.objects.count() == 1
    assert (first.channel, first.target, first.recipient, first.status) == (
        "chat",
        "@alice",
        crew.alice,
        Delivery.Status.QUEUED,
    )


@pytest.mark.parametrize(
    ("channel", "target", "says"),
    [
        ("email", "nope", "not a valid email address"),
        ("webhook", "ftp://x.example", "not an http(s) URL"),
        ("chat", "", "The chat handle is empty"),
        ("chat", "@alice", "CHAT_WEBHOOK_URL is not set"),
        ("sms", "+4420", "Unknown channel"),
    ],
)
def test_notify_contact_records_an_unreachable_target_as_failed(crew, channel, target, says):
    row = notify_contact(recipient=crew.alice, channel=channel, target=target, subject="s", body="")
    assert row.status == Delivery.Status.FAILED and says in row.last_error
    assert row.recipient == crew.alice


def test_notify_contact_records_the_callers_reason(crew):
    row = notify_contact(
        recipient=crew.alice, channel="email", target="", subject="s", body="", unreachable="Why"
    )
    assert (row.status, row.last_error) == (Delivery.Status.FAILED, "Why")
