"""Reviewers racing each other on PostgreSQL: threads with their own connections, started
together on a barrier (``tests.racing``). The notice's row lock serialises them, so a notice
is published once, its messages written once, and approved once."""

import pytest
from django.db import connection

from comms.models import InternalRoute, Notice
from comms.services import notices
from incidents.models import TimelineEntry
from ircore.errors import ConflictError
from ircore.models import Delivery, NotificationEndpoint
from tests.racing import race

from .noticekit import *  # noqa: F403
from .noticekit import INTERNAL, approved, submitted

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks; SQLite serialises writers on one file lock, "
    "so threads racing prove nothing there",
)


@pytest.fixture
def world_committed(transactional_db, world):
    return world


def test_four_publishes_at_once_send_each_message_once(world_committed):
    world = world_committed
    channel = NotificationEndpoint.objects.create(
        name="incidents", kind="chat", target="https://chat.example.com/hook"
    )
    InternalRoute.objects.create(endpoint=channel)
    notice = approved(world, audience=INTERNAL)

    people = [world.manager, world.manager2, world.lead, world.manager]
    results, errors = race([lambda who=who: notices.publish(notice, user=who) for who in people])

    assert sum(result is not None for result in results) == 1
    assert all(isinstance(error, ConflictError) for error in errors if error is not None)
    assert sum(error is not None for error in errors) == 3
    assert Notice.objects.get().status == Notice.Status.PUBLISHED
    sent = Delivery.objects.filter(dedupe_key__startswith=f"comms.notice:{notice.pk}:")
    assert sorted(
        sent.exclude(subject__startswith="To review").values_list("target", flat=True)
    ) == [
        "https://chat.example.com/hook",
        "payments@example.com",
    ]
    published = TimelineEntry.objects.filter(data__notice=notice.pk, data__step="published")
    assert published.count() == 1


def test_two_managers_approving_at_once_approve_once(world_committed):
    world = world_committed
    notice = submitted(world)
    results, errors = race(
        [
            lambda who=who: notices.approve(notice=notice, user=who)
            for who in (world.manager, world.manager2)
        ]
    )
    assert sum(result is not None for result in results) == 1
    assert [type(error) for error in errors if error is not None] == [ConflictError]
    assert TimelineEntry.objects.filter(data__notice=notice.pk, data__step="approved").count() == 1
