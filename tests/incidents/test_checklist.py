"""Checklist ticks record who and when, once."""

import pytest

from incidents import selectors, services
from incidents.models import ChecklistProgress, TimelineEntry
from ircore.errors import ConflictError

from .conftest import at


def test_tick_records_who_and_when(declare, people):
    incident = declare()
    item = incident.checklist.get(text="Page the incident commander")

    returned = services.checklist_tick(item=item, user=people.responder, now=at(3))

    item.refresh_from_db()
    assert item.done
    assert (item.done_at, item.done_by) == (at(3), people.responder)
    assert (returned.done_at, returned.done_by) == (at(3), people.responder)
    entry = incident.timeline.last()
    assert entry.kind == TimelineEntry.Kind.CHECKLIST
    assert entry.author == people.responder
    assert entry.occurred_at == at(3)
    assert entry.text == "Rob ticked “Page the incident commander”"
    assert entry.data == {"item": item.pk, "done": True}
    assert selectors.checklist_progress(incident) == ChecklistProgress(done=1, total=3)


def test_double_tick_is_a_conflict_and_keeps_the_first(declare, people):
    item = declare().checklist.first()
    services.checklist_tick(item=item, user=people.responder, now=at(3))
    with pytest.raises(ConflictError) as again:
        services.checklist_tick(item=item, user=people.manager, now=at(4))
    assert again.value.field == "done"
    assert "already done" in again.value.message
    item.refresh_from_db()
    assert (item.done_at, item.done_by) == (at(3), people.responder)
    assert item.incident.timeline.filter(kind=TimelineEntry.Kind.CHECKLIST).count() == 1


def test_untick_clears_and_can_be_ticked_again(declare, people):
    item = declare().checklist.first()
    services.checklist_tick(item=item, user=people.responder, now=at(3))
    services.checklist_tick(item=item, user=people.manager, done=False, now=at(4))
    item.refresh_from_db()
    assert (item.done_at, item.done_by) == (None, None)
    assert item.incident.timeline.last().text.startswith("Mia unticked")

    with pytest.raises(ConflictError, match="not done"):
        services.checklist_tick(item=item, user=people.manager, done=False, now=at(5))

    services.checklist_tick(item=item, user=people.certified, now=at(6))
    item.refresh_from_db()
    assert (item.done_at, item.done_by) == (at(6), people.certified)


def test_no_checklist_items_is_no_progress_in_admin_and_api(declare, people, client, admin_client):
    """One definition: with no items the API says null and the admin says so, neither 0%
    (the admin's old answer) nor 100% (the API's)."""
    incident = declare()
    incident.checklist.all().delete()
    assert selectors.checklist_progress(incident) == ChecklistProgress(done=0, total=0)
    assert selectors.checklist_progress(incident).percent is None
    page = admin_client.get(f"/admin/incidents/incident/{incident.pk}/change/")
    assert "no checklist items" in page.content.decode()
    client.force_login(people.manager)
    body = client.get(f"/api/v1/incidents/{incident.reference}/").json()
    assert body["checklist"]["total"] == 0
    assert body["checklist"]["percent"] is None
