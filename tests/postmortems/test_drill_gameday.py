"""A game day end to end through the real integration path: the synthetic alert is parsed and
ingested by the integration, declares a drill incident, the participants take a role, the
engine pages the one on call (after commit, as in production), she acknowledges, resolves,
and the assessment takes the incident's times against the targets. A drill at every step,
never in the real figures."""

from datetime import timedelta

import pytest
import time_machine

from incidents.alerts.models import Alert, Integration, RoutingRule
from incidents.alerts.services import integration_create, maintenance_window_create
from incidents.models import Incident, RoleAssignment, TimelineEntry
from incidents.services import incident_set_status
from ircore.errors import ConflictError, RuleError
from ircore.models import Delivery
from oncall.models import Page
from oncall.services.escalation import escalation_acknowledge
from postmortems.models import ActionItem, CostAssessment, Drill
from postmortems.services import drills
from postmortems.services.cost import cost_prefill

from .test_drill_fixtures import *  # noqa: F403  (the fixtures)
from .test_drill_fixtures import at

m = timedelta(minutes=1)


def run(drill, user, captured, *, minutes=0, **kwargs):
    with time_machine.travel(at(minutes), tick=False), captured(execute=True):
        return drills.drill_run(drill=drill, user=user, **kwargs)


@pytest.fixture
def eager(settings):
    # The declaration's kick runs the engine inline, as a worker would at once.
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_a_game_day_goes_the_whole_path_marked_as_a_drill_and_is_assessed(
    world, game_day, eager, django_capture_on_commit_callbacks
):
    captured = django_capture_on_commit_callbacks
    run(game_day, world.manager, captured, fault_started_at=at(-3))
    game_day.refresh_from_db()
    incident = game_day.incident

    # Ingestion: one drill alert, through the integration, routed by its service label.
    alert = Alert.objects.get()
    assert (alert.is_drill, alert.integration, alert.service) == (
        True,
        world.integration,
        world.service,
    )
    assert alert.labels["drill"] == str(game_day.pk)
    # Declaration: a drill incident, detected when the alert came, impact from the fault.
    assert alert.incident == incident and incident.is_drill
    assert (incident.impact_started_at, incident.detected_at) == (at(-3), at(0))
    assert incident.title == f"Drill: {game_day.title}"
    assert list(incident.services.all()) == [world.service]
    # The participants hold the role the engine pages in a drill.
    assert sorted(
        RoleAssignment.objects.filter(incident=incident).values_list("user__username", "role")
    ) == [("ann", "sme"), ("rob", "sme")]
    # Paging: Ann, on call and a participant, was paged at once; the page and its message
    # say DRILL.
    page = Page.objects.get(incident=incident)
    assert (page.recipient, page.is_drill, page.paged_at) == (world.ann, True, at(0))
    delivery = Delivery.objects.get(recipient=world.ann)
    assert delivery.subject.startswith(f"DRILL: Page: {incident.reference}")
    assert game_day.status == Drill.Status.RUNNING and game_day.started_at == at(0)

    with time_machine.travel(at(4), tick=False), captured(execute=True):
        escalation_acknowledge(incident=incident, user=world.ann, via="link", page=page)
    with time_machine.travel(at(30), tick=False), captured(execute=True):
        incident_set_status(
            incident=incident, status=Incident.Status.RESOLVED, user=world.ann, note="Fixed."
        )
    with time_machine.travel(at(45), tick=False), captured(execute=True):
        drills.drill_complete(
            drill=game_day,
            user=world.manager,
            went_well="Paged in seconds.",
            to_improve="The runbook link was stale.",
            communication_score=4,
            action_items=[
                drills.ActionItemDraft(
                    title="Fix the runbook link",
                    kind=ActionItem.Kind.PROCESS,
                    owner=world.rob,
                    due_on=at(0).date() + timedelta(days=7),
                )
            ],
        )

    game_day.refresh_from_db()
    assert game_day.status == Drill.Status.DONE and game_day.duration == 45 * m
    # Against the default policy's game day targets (5m, 5m, 1h).
    assert [(x.actual, x.target, x.met) for x in game_day.measures()] == [
        (3 * m, 5 * m, True),
        (4 * m, 5 * m, True),
        (30 * m, 60 * m, True),
    ]
    (item,) = game_day.action_items.all()
    assert (item.title, item.owner, item.postmortem) == ("Fix the runbook link", world.rob, None)
    assert item.history.get().history_user == world.manager
    # The synthetic alert stops firing when the drill ends.
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED

    # Every step says drill: the alert's, the page's, the escalation's entries and ours.
    texts = list(incident.timeline.order_by("occurred_at", "id").values_list("kind", "text"))
    by_kind = {kind: [t for k, t in texts if k == kind] for kind, _ in texts}
    assert all(t.startswith("DRILL:") for t in by_kind[TimelineEntry.Kind.ALERT])
    assert "(drill)" in by_kind[TimelineEntry.Kind.DECLARED][0]
    assert any("DRILL" in t for t in by_kind[TimelineEntry.Kind.PAGE])
    notes = by_kind[TimelineEntry.Kind.NOTE]
    assert notes[0].startswith(f"DRILL: game day “{game_day.title}” run by mia")
    assert notes[1] == (
        "DRILL: assessment recorded: Detection time 3m vs 5m (met); Response time "
        "(acknowledgement) 4m vs 5m (met); Resolution time 30m vs 1h (met)."
    )
    assert notes[2] == "DRILL: action items: Fix the runbook link"

    # Never in the real figures: no real incident, no real page, no cost assessment.
    assert not Incident.objects.real().exists()
    assert not Page.objects.filter(is_drill=False).exists()
    assert not CostAssessment.objects.exists()
    with pytest.raises(RuleError, match="is a drill") as refused:
        cost_prefill(incident=incident, user=world.manager)
    assert refused.value.field == "incident"


def test_a_drill_pages_only_participants_and_says_so(
    world, game_day, eager, django_capture_on_commit_callbacks
):
    """Ann is on call but not in this game day: the engine refuses to page her, and the
    timeline says why (a drill never wakes someone who is not rehearsing)."""
    game_day.participants.set([world.rob])
    run(game_day, world.manager, django_capture_on_commit_callbacks)
    game_day.refresh_from_db()

    assert not Page.objects.exists()
    entry = game_day.incident.timeline.get(
        kind=TimelineEntry.Kind.ESCALATION, text__contains="Nobody to page"
    )
    assert entry.text.startswith("DRILL: Nobody to page")
    assert "a drill pages only its participants, and Ann Lee is not one" in entry.text


def test_an_alert_the_integration_does_not_route_refuses_the_run_and_keeps_nothing(
    world, game_day, django_capture_on_commit_callbacks
):
    world.integration.rules.all().delete()

    with pytest.raises(RuleError, match="routed the synthetic alert") as refused:
        run(game_day, world.manager, django_capture_on_commit_callbacks)

    assert refused.value.field == "integration"
    assert not Alert.objects.exists() and not Incident.objects.exists()
    game_day.refresh_from_db()
    assert game_day.status == Drill.Status.SCHEDULED and game_day.incident is None


def test_a_second_game_day_joining_an_open_drill_incident_is_refused(
    world, game_day, django_capture_on_commit_callbacks
):
    run(game_day, world.manager, django_capture_on_commit_callbacks)
    second = drills.drill_schedule(
        kind=Drill.Kind.GAME_DAY,
        scheduled_for=at(1),
        service=world.service,
        integration=world.integration,
        participants=[world.rob],
        user=world.manager,
    )

    with pytest.raises(ConflictError, match="another drill's incident") as refused:
        run(second, world.manager, django_capture_on_commit_callbacks, minutes=2)

    assert refused.value.field == "service"
    assert Incident.objects.count() == 1 and Alert.objects.count() == 1


def test_a_maintenance_window_holding_the_alert_refuses_the_run(
    world, game_day, django_capture_on_commit_callbacks
):
    maintenance_window_create(
        service=world.service, start=at(-10), end=at(60), reason="Upgrade", user=world.manager,
        now=at(-20),
    )  # fmt: skip

    with pytest.raises(RuleError, match="maintenance window") as refused:
        run(game_day, world.manager, django_capture_on_commit_callbacks)
    assert refused.value.field == "service"
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"enabled": False}, "integration", "is disabled"),
        ({"participants": []}, "participants", "needs participants"),
        ({"fault_started_at": "two days ago"}, "fault_started_at", "between a day ago"),
    ],
)
def test_a_run_is_refused_with_the_field_named(
    world, game_day, django_capture_on_commit_callbacks, change, field, message
):
    kwargs = {}
    if "enabled" in change:
        world.integration.enabled = False
        world.integration.save()
    if "participants" in change:
        game_day.participants.clear()
    if "fault_started_at" in change:
        kwargs["fault_started_at"] = at(-60 * 25)

    with pytest.raises(RuleError, match=message) as refused:
        run(game_day, world.manager, django_capture_on_commit_callbacks, **kwargs)
    assert refused.value.field == field
    assert not Incident.objects.exists()


def test_a_game_day_completes_only_once_its_incident_is_resolved_and_takes_its_times(
    world, game_day, django_capture_on_commit_callbacks
):
    run(game_day, world.manager, django_capture_on_commit_callbacks)
    game_day.refresh_from_db()

    with pytest.raises(RuleError, match="Resolve the drill incident") as refused:
        drills.drill_complete(drill=game_day, user=world.manager, now=at(20))
    assert refused.value.field == "status"

    incident_set_status(
        incident=game_day.incident, status=Incident.Status.RESOLVED, user=world.rob, now=at(70)
    )
    with pytest.raises(RuleError, match="come from its incident") as refused:
        drills.drill_complete(
            drill=game_day, user=world.manager, actuals={"ack_actual": 2 * m}, now=at(80)
        )
    assert refused.value.field == "ack_actual"

    drills.drill_complete(drill=game_day, user=world.manager, now=at(80))
    game_day.refresh_from_db()
    # Nobody acknowledged before the move to resolved: that move acknowledges (70 min).
    assert [(x.actual, x.met) for x in game_day.measures()] == [
        (timedelta(0), True),
        (70 * m, False),
        (70 * m, False),
    ]


def test_cancelling_a_running_game_day_resolves_its_incident_and_alert(
    world, game_day, eager, django_capture_on_commit_callbacks
):
    run(game_day, world.manager, django_capture_on_commit_callbacks)
    game_day.refresh_from_db()

    with time_machine.travel(at(5), tick=False), django_capture_on_commit_callbacks(execute=True):
        drills.drill_cancel(drill=game_day, user=world.manager, reason="Real incident on Payments")

    game_day.refresh_from_db()
    incident = game_day.incident
    incident.refresh_from_db()
    assert game_day.status == Drill.Status.CANCELLED
    assert game_day.cancel_reason == "Real incident on Payments"
    assert incident.status == Incident.Status.RESOLVED
    assert Alert.objects.get().status == Alert.Status.RESOLVED
    assert Page.objects.get().status in (Page.Status.ACKNOWLEDGED, Page.Status.STOPPED)
    assert incident.timeline.filter(
        kind=TimelineEntry.Kind.NOTE, text="DRILL: cancelled by mia: Real incident on Payments"
    ).exists()
    with pytest.raises(ConflictError, match="cancelled already"):
        drills.drill_cancel(drill=game_day, user=world.manager, reason="again")


@pytest.mark.parametrize("kind", [Integration.Kind.EVENTS, Integration.Kind.GENERIC])
def test_a_game_day_goes_through_each_kind_of_integration(
    world, django_capture_on_commit_callbacks, kind
):
    """The synthetic alert is shaped as the integration's kind posts it, read by its own
    parser, routed by its rules; the end of the drill resolves it the same way."""
    integration, _ = integration_create(name=f"Monitor {kind}", kind=kind, user=world.manager)
    RoutingRule.objects.create(
        integration=integration, position=1, label="service", value="payments-api",
        service=world.service,
    )  # fmt: skip
    drill = drills.drill_schedule(
        kind=Drill.Kind.GAME_DAY, scheduled_for=at(0), service=world.service,
        integration=integration, participants=[world.rob], alert_severity="error",
        user=world.manager,
    )  # fmt: skip
    run(drill, world.manager, django_capture_on_commit_callbacks, fault_started_at=at(-1))
    drill.refresh_from_db()

    alert = Alert.objects.get()
    assert (alert.integration, alert.is_drill, alert.incident) == (
        integration,
        True,
        drill.incident,
    )
    assert drill.incident.impact_started_at == at(-1)
    assert drill.incident.severity.rank == 2  # "error": the second level
    incident_set_status(
        incident=drill.incident, status=Incident.Status.RESOLVED, user=world.rob, now=at(10)
    )
    drills.drill_complete(drill=drill, user=world.manager, now=at(12))
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
