"""Action items: the due date defaults from the priority (policy data), done needs the
evidence of completion (003_*), won't do a reason, tickets link over https only; every change
is in history and on the incident's timeline; overdue is one definition."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Q

from incidents.models import TimelineEntry
from ircore.errors import ConflictError, RuleError
from ircore.models import Delivery
from postmortems.models import ActionItem, ActionItemDeadline
from postmortems.permissions import NotAllowed
from postmortems.services.actions import (
    action_item_create,
    action_item_set_status,
    action_item_update,
)

from .postmortem_world import T0, at, declare, resolve

TODAY = T0.date()  # 2025-03-14


def add(world, pm, **data) -> ActionItem:
    data.setdefault("title", "Alert on query-plan changes")
    data.setdefault("kind", ActionItem.Kind.DETECT)
    return action_item_create(user=data.pop("by", world.ivy), postmortem=pm, data=data, now=at(3))


@pytest.mark.parametrize("priority,days", [("p1", 7), ("p2", 14), ("p3", 30), ("p4", 90)])
def test_the_due_date_defaults_from_the_priority(world, pm, priority, days):
    item = add(world, pm, priority=priority)
    assert item.due_on == TODAY + timedelta(days=days)


def test_the_policy_is_data(world, pm):
    ActionItemDeadline.objects.filter(priority="p1").update(days=3)
    assert add(world, pm, priority="p1").due_on == date(2025, 3, 17)
    ActionItemDeadline.objects.filter(priority="p4").delete()
    with pytest.raises(RuleError) as caught:
        add(world, pm, priority="p4")
    assert caught.value.field == "due_on" and "P4" in caught.value.message
    # A date given by hand needs no policy.
    assert add(world, pm, priority="p4", due_on=date(2025, 9, 1)).due_on == date(2025, 9, 1)


def test_an_item_gets_the_owners_team_and_lands_on_the_timeline(world, pm):
    item = add(world, pm, owner=world.responder, priority="p1")
    assert item.team == world.team and item.created_by == world.ivy
    entry = pm.incident.timeline.filter(kind=TimelineEntry.Kind.POSTMORTEM).latest("id")
    assert "added action item “Alert on query-plan changes” (Detect, P1, owner rob" in entry.text
    assert item.history.get().history_user == world.ivy
    # The new owner hears of it; adding one's own item tells nobody.
    assert Delivery.objects.get().recipient == world.responder
    add(world, pm, owner=world.ivy)
    assert Delivery.objects.count() == 1


def test_done_needs_evidence(world, pm):
    item = add(world, pm)
    with pytest.raises(RuleError) as caught:
        action_item_set_status(item=item, user=world.ivy, status="done", now=at(4))
    assert caught.value.field == "evidence"
    item = action_item_set_status(
        item=item, user=world.ivy, status="done", evidence="https://git.example/mr/12", now=at(5)
    )
    assert (item.status, item.completed_at, item.completed_by) == ("done", at(5), world.ivy)
    assert item.next_reminder_at is None
    entry = pm.incident.timeline.filter(kind=TimelineEntry.Kind.POSTMORTEM).latest("id")
    assert entry.text.endswith("done (evidence: https://git.example/mr/12).")
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionItem.objects.filter(pk=item.pk).update(evidence="")


def test_wont_do_needs_a_reason(world, pm):
    item = add(world, pm)
    with pytest.raises(RuleError) as caught:
        action_item_set_status(item=item, user=world.ivy, status="wont_do", now=at(4))
    assert caught.value.field == "reason"
    item = action_item_set_status(
        item=item, user=world.ivy, status="wont_do", reason="The service is retired", now=at(4)
    )
    assert item.wont_do_reason == "The service is retired" and item.completed_at == at(4)


def test_a_finished_item_can_be_reopened_and_is_chased_again(world, pm):
    item = add(world, pm)
    action_item_set_status(item=item, user=world.ivy, status="done", evidence="E", now=at(4))
    item = action_item_set_status(item=item, user=world.ivy, status="open", now=at(5))
    assert item.completed_at is None and item.next_reminder_at is not None
    with pytest.raises(ConflictError):
        action_item_set_status(item=item, user=world.ivy, status="open", now=at(6))


def test_tickets_link_over_https_only(world, pm):
    for bad in ("http://jira.example/INC-1", "javascript:alert(1)", "https://", "ftp://x/y"):
        with pytest.raises(RuleError) as caught:
            add(world, pm, ticket_url=bad)
        assert caught.value.field == "ticket_url"
    item = add(world, pm, ticket_url="https://jira.example/browse/OPS-7")
    assert item.ticket_url == "https://jira.example/browse/OPS-7"


def test_bad_input_names_the_field(world, pm):
    for data, field in (
        ({"title": ""}, "title"),
        ({"kind": "blame"}, "kind"),
        ({"priority": "p9"}, "priority"),
        ({"due_on": "tomorrow"}, "due_on"),
        ({"owner": "rob"}, "owner"),
        ({"colour": "red"}, "colour"),
    ):
        with pytest.raises(RuleError) as caught:
            add(world, pm, **data)
        assert caught.value.field == field, data
    assert not ActionItem.objects.exists()


def test_a_new_due_date_restarts_its_reminders(world, pm):
    item = add(world, pm, priority="p1")  # due 2025-03-21
    ActionItem.objects.filter(pk=item.pk).update(overdue_notices=2, reminded_for=item.due_on)
    item = action_item_update(
        item=item, user=world.ivy, data={"due_on": date(2025, 4, 30)}, now=at(4)
    )
    assert (item.overdue_notices, item.reminded_for) == (0, None)
    assert item.next_reminder_at.date() == date(2025, 4, 27)


def test_who_may_change_an_item(world, pm):
    item = add(world, pm, owner=world.responder)
    # The owner (no part in the incident otherwise) moves their own item along.
    action_item_set_status(item=item, user=world.responder, status="in_progress", now=at(4))
    other = add(world, pm)
    with pytest.raises(NotAllowed):
        action_item_update(item=other, user=world.responder, data={"priority": "p1"})
    with pytest.raises(NotAllowed):
        action_item_update(item=other, user=world.leader, data={"priority": "p1"})
    with pytest.raises(NotAllowed):
        add(world, pm, by=world.responder)  # not theirs to add to
    action_item_update(item=other, user=world.boss, data={"priority": "p1"}, now=at(5))


def test_overdue_is_unfinished_and_past_its_due_date(world, pm):
    late = add(world, pm, due_on=date(2025, 3, 10))
    add(world, pm, due_on=date(2025, 3, 14))  # due today: not overdue yet
    done = add(world, pm, due_on=date(2025, 3, 1))
    action_item_set_status(item=done, user=world.ivy, status="done", evidence="E", now=at(4))
    assert list(ActionItem.objects.overdue(TODAY)) == [late]
    assert late.is_overdue(TODAY) and not done.is_overdue(TODAY)


def test_drill_items_are_kept_out_of_the_real_ones(world):
    drill = declare(world, drill=True, title="Game day")
    resolve(drill, world.manager, at(2))
    from postmortems.services.postmortems import postmortem_open

    drill_pm = postmortem_open(incident=drill, user=world.manager, now=at(2))
    add(world, drill_pm, by=world.manager)
    incident = declare(world, title="Real")
    resolve(incident, world.manager, at(2))
    real_pm = postmortem_open(incident=incident, user=world.manager, now=at(2))
    real = add(world, real_pm, by=world.manager)
    assert list(ActionItem.objects.real()) == [real]


def test_the_unfinished_index_holds_the_statuses_the_queryset_reads():
    # The index's condition is written out (a model's Meta cannot read its Status class);
    # it must name exactly what ``unfinished()`` filters on, or the planner skips it.
    index = next(i for i in ActionItem._meta.indexes if i.name == "action_item_unfinished_idx")
    assert index.condition == Q(status__in=list(ActionItem.UNFINISHED))
    assert set(ActionItem.UNFINISHED) | set(ActionItem.FINISHED) == set(ActionItem.Status)
