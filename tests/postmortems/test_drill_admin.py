"""Drills in the admin: a manager schedules a game day, presses "Run game day" and records the
assessment with an action item; refusals come back on the form; Leadership and responders
read and change nothing; Support and outsiders see nothing."""

import pytest
import time_machine
from django.urls import reverse

from incidents.models import Incident
from incidents.services import incident_set_status
from postmortems.models import ActionItem, CostRates, Drill, DrillPlan
from postmortems.services import drills
from tests.ircore.test_admin_smoke import form_data

from .test_drill_fixtures import *  # noqa: F403  (the fixtures)
from .test_drill_fixtures import T, at

CHANGELIST = reverse("admin:postmortems_drill_changelist")
ADD = reverse("admin:postmortems_drill_add")


def page(drill, name="change"):
    return reverse(f"admin:postmortems_drill_{name}", args=[drill.pk])


def login(client, user):
    client.force_login(user)
    return client


def test_a_manager_schedules_a_game_day_from_the_add_form(client, world):
    c = login(client, world.manager)
    assert c.get(ADD).status_code == 200

    response = c.post(
        ADD,
        {
            "kind": "game_day",
            "title": "",
            "scenario": "",
            "scheduled_for_0": "2025-03-05",
            "scheduled_for_1": "10:00:00",
            "participants": [world.ann.pk, world.rob.pk],
            "service": world.service.pk,
            "integration": world.integration.pk,
            "alert_severity": "critical",
        },
    )

    assert response.status_code == 302, response.context and response.context["adminform"].errors
    drill = Drill.objects.get()
    # Title, scenario and targets from the default policy's plan (Q1).
    assert drill.title == "Game day 2025-Q1: Notification system failure simulation"
    assert drill.ack_target is not None
    assert drill.history.earliest("history_id").history_user == world.manager


def test_a_refused_schedule_shows_on_its_field_and_saves_nothing(client, world):
    response = login(client, world.manager).post(
        ADD,
        {
            "kind": "game_day",
            "scheduled_for_0": "2025-03-05",
            "scheduled_for_1": "10:00:00",
            "integration": world.integration.pk,
            "alert_severity": "critical",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["service"] == [
        "A game day needs the service under test."
    ]
    assert not Drill.objects.exists()


def test_run_game_day_injects_the_alert_and_the_page_says_so(client, world, game_day):
    c = login(client, world.manager)
    shown = c.get(page(game_day)).content.decode()
    assert page(game_day, "run") in shown and "Run game day" in shown

    with time_machine.travel(at(0), tick=False):
        assert c.get(page(game_day, "run")).status_code == 200
        response = c.post(page(game_day, "run"), {"fault_minutes_ago": "2"})

    assert response.status_code == 302 and response["Location"] == page(game_day)
    game_day.refresh_from_db()
    assert game_day.status == Drill.Status.RUNNING
    assert game_day.incident.is_drill
    assert game_day.incident.impact_started_at == at(-2)
    shown = c.get(page(game_day)).content.decode()
    assert "Run game day" not in shown and page(game_day, "complete") in shown
    assert game_day.incident.reference in shown


def test_a_refused_run_shows_the_reason_and_writes_nothing(client, world, game_day):
    world.integration.rules.all().delete()
    with time_machine.travel(at(0), tick=False):
        response = login(client, world.manager).post(
            page(game_day, "run"), {"fault_minutes_ago": "0"}
        )
    assert response.status_code == 200
    assert "routed the synthetic alert" in str(response.context["form"].non_field_errors())
    assert not Incident.objects.exists()


def test_the_assessment_page_records_times_and_action_items(client, world, game_day):
    drills.drill_run(drill=game_day, user=world.manager, now=at(0))
    game_day.refresh_from_db()
    incident_set_status(
        incident=game_day.incident, status=Incident.Status.RESOLVED, user=world.ann, now=at(20)
    )
    c = login(client, world.manager)
    shown = c.get(page(game_day, "complete"))
    assert shown.status_code == 200
    assert "detect_actual" not in shown.context["form"].fields  # from the incident

    with time_machine.travel(at(30), tick=False):
        response = c.post(
            page(game_day, "complete"),
            {
                "communication_score": "4",
                "went_well": "Fast page",
                "to_improve": "",
                "process_updates": "",
                "items-TOTAL_FORMS": "2",
                "items-INITIAL_FORMS": "0",
                "items-MIN_NUM_FORMS": "0",
                "items-MAX_NUM_FORMS": "20",
                "items-0-title": "Tune the alert",
                "items-0-kind": "detect",
                "items-0-owner": str(world.rob.pk),
                "items-0-priority": "p2",
                "items-0-due_on": "2025-03-19",
                # An empty row as a browser sends it: its selects keep their first choice.
                "items-1-title": "",
                "items-1-kind": "prevent",
                "items-1-priority": "p2",
            },
        )

    assert response.status_code == 302, (
        response.context["form"].errors,
        response.context["formset"].errors,
    )
    game_day.refresh_from_db()
    assert game_day.status == Drill.Status.DONE and game_day.communication_score == 4
    assert [i.title for i in game_day.action_items.all()] == ["Tune the alert"]
    shown = c.get(page(game_day)).content.decode()
    assert "Performance against targets" in shown or "performance against targets" in shown
    assert "Tune the alert" in shown


def test_a_tabletop_is_started_and_cancelled_from_its_page(client, world):
    tabletop = drills.drill_schedule(
        kind=Drill.Kind.TABLETOP, scheduled_for=T, scenario="x", user=world.manager
    )
    c = login(client, world.manager)
    assert "Start drill" in c.get(page(tabletop)).content.decode()
    assert c.post(page(tabletop, "start")).status_code == 302
    response = c.post(page(tabletop, "cancel"), {"reason": ""})
    assert response.context["form"].errors["reason"] == ["This field is required."]
    assert c.post(page(tabletop, "cancel"), {"reason": "Half the team is off"}).status_code == 302
    tabletop.refresh_from_db()
    assert (tabletop.status, tabletop.cancel_reason) == ("cancelled", "Half the team is off")


def test_a_scheduled_drill_is_changed_from_its_page_through_the_service(client, world, game_day):
    c = login(client, world.manager)
    data = form_data(c.get(page(game_day)))
    data.update({"ack_target": "10m", "participants": [str(world.rob.pk)]})

    assert c.post(page(game_day), data).status_code == 302

    game_day.refresh_from_db()
    assert game_day.ack_target.total_seconds() == 600
    assert [p.username for p in game_day.participants.all()] == ["rob"]
    assert game_day.history.latest("history_id").history_change_reason == "changed"


@pytest.mark.parametrize("who", ["leader", "responder"])
def test_readers_see_drills_and_change_nothing(client, world, game_day, who):
    c = login(client, getattr(world, who))
    assert c.get(CHANGELIST).status_code == 200
    shown = c.get(page(game_day))
    assert shown.status_code == 200
    assert "Run game day" not in shown.content.decode()
    assert 'name="_save"' not in shown.content.decode()
    assert c.get(ADD).status_code == 403
    for verb in ("run", "start", "complete", "cancel"):
        assert c.get(page(game_day, verb)).status_code == 403
        assert c.post(page(game_day, verb), {"reason": "x"}).status_code == 403
    data = {"title": "Renamed", "scheduled_for_0": "2025-03-05", "scheduled_for_1": "10:00"}
    assert c.post(page(game_day), data).status_code == 403
    game_day.refresh_from_db()
    assert game_day.status == Drill.Status.SCHEDULED and game_day.title != "Renamed"
    # The plans and the rates too: read, never changed.
    plan = DrillPlan.objects.first()
    assert c.get(reverse("admin:postmortems_drillplan_change", args=[plan.pk])).status_code == 200
    assert (
        c.post(reverse("admin:postmortems_drillplan_change", args=[plan.pk]), {}).status_code == 403
    )
    rates = CostRates.objects.get()
    assert (
        c.post(reverse("admin:postmortems_costrates_change", args=[rates.pk]), {}).status_code
        == 403
    )


def test_support_and_outsiders_see_no_drills(client, world, game_day):
    c = login(client, world.support)
    assert c.get(CHANGELIST).status_code == 403
    assert c.get(page(game_day)).status_code == 403
    assert c.get(page(game_day, "run")).status_code == 403
    c = login(client, world.outsider)
    response = c.get(page(game_day, "run"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_the_plan_list_says_when_each_kind_is_due(client, world):
    tabletop = drills.drill_schedule(
        kind=Drill.Kind.TABLETOP, scheduled_for=T, scenario="x", user=world.manager
    )
    drills.drill_start(drill=tabletop, user=world.manager, now=at(0))
    drills.drill_complete(drill=tabletop, user=world.manager, now=at(60))

    shown = login(client, world.leader).get(reverse("admin:postmortems_drillplan_changelist"))

    rows = {row.kind: row for row in shown.context["cl"].result_list}
    admin_ = shown.context["cl"].model_admin
    assert admin_.due_by(rows["tabletop"]) == "2025-04-05 (overdue)"  # monthly: 31 days
    assert admin_.due_by(rows["game_day"]) == "now (none done yet)"
    assert ActionItem.objects.count() == 0
