"""Draft -> in review -> published: sending for review needs a summary and a root cause,
publishing needs an incident manager and a postmortem in review, a published postmortem is
read-only (its sections, timeline rows and items' wording) until re-opened with a reason.
Every change lands in history and on the incident's timeline."""

import pytest

from incidents.models import TimelineEntry
from ircore.errors import ConflictError, RuleError
from postmortems.models import ActionItem, Postmortem
from postmortems.permissions import NotAllowed
from postmortems.services.actions import (
    action_item_create,
    action_item_set_status,
    action_item_update,
)
from postmortems.services.postmortems import (
    postmortem_publish,
    postmortem_reassign,
    postmortem_reopen,
    postmortem_send_back,
    postmortem_submit,
    postmortem_update,
    timeline_entry_add,
    timeline_entry_update,
)

from .postmortem_world import at

WRITTEN = {"summary": "Card payments timed out.", "root_cause": "No query-plan checks."}


def written(pm, world) -> Postmortem:
    return postmortem_update(postmortem=pm, user=world.ivy, data=WRITTEN, now=at(3))


def published(pm, world, now=None) -> Postmortem:
    written(pm, world)
    postmortem_submit(postmortem=pm, user=world.ivy, now=at(4))
    return postmortem_publish(postmortem=pm, user=world.manager, now=now or at(5))


def test_writing_lands_in_history_and_on_the_timeline(world, pm):
    written(pm, world)
    assert pm.summary == WRITTEN["summary"]
    latest = pm.history.latest("history_id")
    assert (latest.history_user, latest.history_change_reason) == (
        world.ivy,
        "edited summary, root cause",
    )
    entry = pm.incident.timeline.filter(kind=TimelineEntry.Kind.POSTMORTEM).latest("id")
    assert entry.text == "Ivy edited the postmortem: summary, root cause."
    assert entry.author == world.ivy


def test_an_edit_that_changes_nothing_writes_nothing(world, pm):
    written(pm, world)
    before = (pm.history.count(), pm.incident.timeline.count())
    postmortem_update(postmortem=pm, user=world.ivy, data=WRITTEN, now=at(3.5))
    assert (pm.history.count(), pm.incident.timeline.count()) == before


def test_bad_input_names_the_field(world, pm):
    for data, field in (
        ({"summary": "a\x00b"}, "summary"),
        ({"summary": "x" * 20_001}, "summary"),
        ({"customers_affected": -1}, "customers_affected"),
        ({"financial_impact": "12.345"}, "financial_impact"),
        ({"status": "published"}, "status"),
    ):
        with pytest.raises(RuleError) as caught:
            postmortem_update(postmortem=pm, user=world.ivy, data=data, now=at(3))
        assert caught.value.field == field
    pm.refresh_from_db()
    assert pm.summary == "" and pm.status == Postmortem.Status.DRAFT


def test_review_needs_a_summary_and_a_root_cause(world, pm):
    with pytest.raises(RuleError) as caught:
        postmortem_submit(postmortem=pm, user=world.ivy, now=at(4))
    assert caught.value.field == "summary"
    postmortem_update(postmortem=pm, user=world.ivy, data={"summary": "S"}, now=at(3))
    with pytest.raises(RuleError) as caught:
        postmortem_submit(postmortem=pm, user=world.ivy, now=at(4))
    assert caught.value.field == "root_cause"


def test_only_a_postmortem_in_review_is_published_by_an_incident_manager(world, pm):
    written(pm, world)
    with pytest.raises(ConflictError):  # a draft
        postmortem_publish(postmortem=pm, user=world.manager, now=at(5))
    postmortem_submit(postmortem=pm, user=world.ivy, now=at(4))
    with pytest.raises(NotAllowed):  # the owner, a responder, may not publish
        postmortem_publish(postmortem=pm, user=world.ivy, now=at(5))
    postmortem_publish(postmortem=pm, user=world.manager, now=at(5))
    pm.refresh_from_db()
    assert (pm.status, pm.published_at, pm.published_by) == ("published", at(5), world.manager)
    assert pm.on_time and Postmortem.objects.on_time().get() == pm
    entry = pm.incident.timeline.filter(kind=TimelineEntry.Kind.POSTMORTEM).latest("id")
    assert entry.text == "mia published the postmortem, by its deadline 2025-03-16 11:00 UTC."


def test_published_after_the_deadline_is_not_on_time(world, pm):
    published(pm, world, now=at(60))
    assert pm.on_time is False
    assert not Postmortem.objects.on_time().exists()
    assert Postmortem.objects.filter(published_at__isnull=False).count() == 1


def test_sent_back_to_draft_with_what_to_change(world, pm):
    written(pm, world)
    postmortem_submit(postmortem=pm, user=world.ivy, now=at(4))
    with pytest.raises(RuleError) as caught:
        postmortem_send_back(postmortem=pm, user=world.manager, reason=" ", now=at(5))
    assert caught.value.field == "reason"
    postmortem_send_back(postmortem=pm, user=world.manager, reason="Add the five whys", now=at(5))
    pm.refresh_from_db()
    assert pm.status == Postmortem.Status.DRAFT


def test_a_published_postmortem_is_read_only(world, pm):
    entry = pm.timeline.first()
    item = action_item_create(
        user=world.ivy, postmortem=pm, data={"title": "Plan monitor", "kind": "detect"}, now=at(3)
    )
    published(pm, world)
    refusals = [
        lambda: postmortem_update(postmortem=pm, user=world.manager, data={"summary": "x"}),
        lambda: timeline_entry_update(entry=entry, user=world.manager, data={"starred": True}),
        lambda: timeline_entry_add(
            postmortem=pm, user=world.manager, data={"text": "x", "occurred_at": at(1)}
        ),
        lambda: postmortem_reassign(postmortem=pm, user=world.manager, owner=world.responder),
        lambda: action_item_create(
            user=world.manager, postmortem=pm, data={"title": "New", "kind": "prevent"}
        ),
        lambda: action_item_update(item=item, user=world.manager, data={"title": "Reworded"}),
        lambda: postmortem_submit(postmortem=pm, user=world.manager),
    ]
    for refused in refusals:
        with pytest.raises(ConflictError):
            refused()
    pm.refresh_from_db()
    assert pm.summary == WRITTEN["summary"] and pm.action_items.count() == 1
    # The items themselves are still chased: progress moves after publication.
    action_item_set_status(
        item=item, user=world.ivy, status="done", evidence="https://dash.example/plans", now=at(9)
    )
    assert ActionItem.objects.get().status == "done"


def test_reopening_needs_a_reason_and_an_incident_manager(world, pm):
    published(pm, world)
    with pytest.raises(RuleError) as caught:
        postmortem_reopen(postmortem=pm, user=world.manager, reason="", now=at(6))
    assert caught.value.field == "reason"
    with pytest.raises(NotAllowed):
        postmortem_reopen(postmortem=pm, user=world.ivy, reason="Typo", now=at(6))
    postmortem_reopen(
        postmortem=pm, user=world.manager, reason="The vendor's RCA came in", now=at(6)
    )
    pm.refresh_from_db()
    assert (pm.status, pm.reopen_reason, pm.reopened_at) == (
        "draft",
        "The vendor's RCA came in",
        at(6),
    )
    assert (
        pm.history.latest("history_id").history_change_reason
        == "re-opened: The vendor's RCA came in"
    )
    # Writable again, and published again later keeps its first publication time.
    postmortem_update(postmortem=pm, user=world.ivy, data={"lessons_learned": "L"}, now=at(70))
    postmortem_submit(postmortem=pm, user=world.ivy, now=at(71))
    postmortem_publish(postmortem=pm, user=world.manager, now=at(72))
    pm.refresh_from_db()
    assert pm.published_at == at(5) and pm.on_time
    assert pm.incident.timeline.filter(text__contains="published the postmortem again").exists()


def test_a_re_opened_postmortem_is_not_counted_as_published(world, pm):
    published(pm, world)
    postmortem_reopen(postmortem=pm, user=world.manager, reason="More to say", now=at(6))
    assert not Postmortem.objects.on_time().exists()
    assert Postmortem.objects.unpublished().get() == pm


def test_handing_over_tells_the_new_owner(world, pm):
    from ircore.models import Delivery

    postmortem_reassign(postmortem=pm, user=world.ivy, owner=world.responder, now=at(3))
    pm.refresh_from_db()
    assert pm.owner == world.responder
    assert Delivery.objects.get().recipient == world.responder
    with pytest.raises(NotAllowed):  # no longer Ivy's to hand over
        postmortem_reassign(postmortem=pm, user=world.ivy, owner=world.ivy, now=at(4))
