"""The record of updates due in the admin: read-only for everyone who works incidents,
nothing for an outsider, filters for what is overdue now and for drills, and a change list
whose query count does not grow with its rows."""

import pytest
import time_machine
from django.urls import reverse

from comms.models import UpdateDue
from comms.services.cadence import cadence_tick

from .cadence_fixtures import *  # noqa: F403  (the fixtures)
from .cadence_fixtures import at

CHANGELIST = reverse("admin:comms_updatedue_changelist")


def listed(client, user, query=""):
    client.force_login(user)
    with time_machine.travel(at(20), tick=False):
        response = client.get(CHANGELIST + query)
    return response


def test_everyone_who_works_incidents_reads_the_record_and_nobody_changes_it(client, declare, cast):
    incident = declare(0)
    cadence_tick(now=at(1))
    row = UpdateDue.objects.filter(incident=incident).first()
    change = reverse("admin:comms_updatedue_change", args=[row.pk])
    for user in (cast.manager, cast.responder, cast.support, cast.leader):
        assert listed(client, user).status_code == 200
        client.force_login(user)
        assert client.get(change).status_code == 200
        assert client.post(change, {"outcome": "on_time"}).status_code == 403
        assert client.get(reverse("admin:comms_updatedue_add")).status_code == 403
    assert listed(client, cast.outsider).status_code == 302  # to the login page
    assert UpdateDue.objects.get(pk=row.pk).outcome == "pending"


def test_the_overdue_and_drill_filters(client, declare, cast):
    real = declare(0)
    drill = declare(10, is_drill=True, title="Game day")
    cadence_tick(now=at(11))
    overdue = listed(client, cast.manager, "?overdue=yes").context["cl"].result_list
    assert [(r.incident_id, r.audience) for r in overdue] == [(real.pk, "internal")]
    drills = listed(client, cast.manager, "?drill=drill").context["cl"].result_list
    assert {r.incident_id for r in drills} == {drill.pk}


@pytest.mark.parametrize("count", [1, 20])
def test_the_change_list_costs_the_same_for_1_or_20_incidents(
    client, count, declare, cast, django_assert_max_num_queries
):
    for n in range(count):
        declare(0, title=f"Incident {n}")
    cadence_tick(now=at(1))
    client.force_login(cast.manager)
    client.get(CHANGELIST)
    # Session, user, permissions, the page's rows with their incidents, the filters: fixed.
    with django_assert_max_num_queries(8):
        assert client.get(CHANGELIST).status_code == 200
