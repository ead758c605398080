"""fan_out: a published customer notice reaches exactly the active subscribers of its
components and those who follow everything, once each, through ircore.notifications."""

import pytest

from comms.models import Audience, Notice, Subscriber
from comms.services import subscribers
from comms.status import tokens
from ircore.models import Delivery

from .statuskit import declare, publish_notice, service

pytestmark = pytest.mark.django_db


def _subscriber(target, *, kind="email", components=None, confirmed=True, unsubscribed=False):
    from .statuskit import T0

    row = Subscriber.objects.create(
        kind=kind,
        target=target,
        all_components=components is None,
        confirmed_at=T0 if confirmed else None,
        unsubscribed_at=T0 if unsubscribed else None,
    )
    row.components.set(components or [])
    return row


@pytest.fixture
def world():
    api, dashboard, other = service("Payments API"), service("Dashboard"), service("Search")
    internal = service("Ledger DB", public=False)
    incident = declare(api, dashboard)
    return api, dashboard, other, internal, incident


def _targets():
    return sorted(Delivery.objects.values_list("target", flat=True))


def test_reaches_component_and_all_subscribers_only(world):
    api, dashboard, other, internal, incident = world
    _subscriber("all@example.com")
    _subscriber("api@example.com", components=[api])
    _subscriber("both@example.com", components=[api, dashboard])
    _subscriber("other@example.com", components=[other])
    _subscriber("pending@example.com", confirmed=False)
    _subscriber("gone@example.com", unsubscribed=True)
    _subscriber("https://hooks.example.com/status", kind="webhook", components=[api])
    _subscriber("internal@example.com", components=[internal])
    notice = publish_notice(incident, "Payments delayed", components=[api])

    assert subscribers.fan_out(notice) == 4
    assert _targets() == [
        "all@example.com",
        "api@example.com",
        "both@example.com",
        "https://hooks.example.com/status",
    ]
    # Followed two of the notice's components (api here): still one message.
    assert Delivery.objects.filter(target="both@example.com").count() == 1


def test_twice_sends_nothing_more(world):
    api, *_, incident = world
    _subscriber("all@example.com")
    _subscriber("api@example.com", components=[api])
    notice = publish_notice(incident, "Payments delayed", components=[api])
    subscribers.fan_out(notice)
    subscribers.fan_out(notice)
    assert Delivery.objects.count() == 2
    keys = set(Delivery.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == 2


def test_a_second_notice_is_a_second_message(world):
    api, *_, incident = world
    _subscriber("api@example.com", components=[api])
    subscribers.fan_out(publish_notice(incident, "Payments delayed", components=[api]))
    subscribers.fan_out(publish_notice(incident, "Payments recovered", components=[api]))
    assert Delivery.objects.filter(target="api@example.com").count() == 2


def test_no_components_reaches_all_followers_only(world):
    api, *_, incident = world
    _subscriber("all@example.com")
    _subscriber("api@example.com", components=[api])
    subscribers.fan_out(publish_notice(incident, "Something is wrong"))
    assert _targets() == ["all@example.com"]


@pytest.mark.parametrize(
    "change",
    [
        {"audience": Audience.INTERNAL},
        {"audience": Audience.EXECUTIVES},
        {"status": Notice.Status.APPROVED},
        {"status": Notice.Status.DRAFT},
    ],
)
def test_nothing_for_a_notice_the_page_does_not_show(world, change):
    api, *_, incident = world
    _subscriber("all@example.com")
    notice = publish_notice(incident, "Internal word", components=[api], **change)
    assert subscribers.fan_out(notice) == 0
    assert not Delivery.objects.exists()


def test_nothing_for_a_drill(world):
    api, *_ = world
    drill = declare(api, is_drill=True, title="Drill")
    _subscriber("all@example.com")
    assert subscribers.fan_out(publish_notice(drill, "Drill", components=[api])) == 0
    assert not Delivery.objects.exists()


def test_email_carries_the_notice_and_a_working_unsubscribe_link(world):
    api, *_, incident = world
    sub = _subscriber("api@example.com", components=[api])
    notice = publish_notice(
        incident, "Payments delayed", "Card payments are slow.", components=[api]
    )
    subscribers.fan_out(notice)
    delivery = Delivery.objects.get()
    assert delivery.channel == "email"
    assert "Payments delayed" in delivery.subject
    assert "Card payments are slow." in delivery.body
    assert "Affected: Payments API" in delivery.body
    assert delivery.payload["link"].endswith(f"/status/incidents/{incident.pk}/")
    token = delivery.body.split("/status/unsubscribe/")[1].split("/")[0]
    assert tokens.read_unsubscribe(token) == (sub.pk, tokens.target_digest(sub.target))


def test_webhook_payload(world):
    api, *_, incident = world
    _subscriber("https://hooks.example.com/status", kind="webhook")
    notice = publish_notice(incident, "Payments delayed", "Slow.", components=[api])
    subscribers.fan_out(notice)
    delivery = Delivery.objects.get()
    assert delivery.channel == "webhook"
    assert delivery.payload["type"] == "incident_update"
    assert delivery.payload["update"]["subject"] == "Payments delayed"
    assert delivery.payload["components"] == ["Payments API"]
    assert "/status/unsubscribe/" in delivery.payload["unsubscribe_url"]
