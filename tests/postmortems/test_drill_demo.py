"""The demo data: a finished game day with its assessment (through the real integration and
engine, at the drill's own times), a tabletop to come, and the cost assessment of the demo's
resolved incident with an adjusted line."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from incidents.models import Incident
from oncall.models import Page
from postmortems.models import CostAssessment, CostLine, Drill

pytestmark = pytest.mark.django_db


def test_bootstrap_adds_a_finished_game_day_and_a_cost_assessment(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()

    call_command("bootstrap", stdout=out)

    assert "2 drills" in out.getvalue() and "1 cost assessments" in out.getvalue()
    game_day = Drill.objects.get(kind=Drill.Kind.GAME_DAY)
    assert game_day.status == Drill.Status.DONE
    assert game_day.incident.is_drill and game_day.incident.alerts.get().is_drill
    # The default policy's game day targets (5m, 5m, 1h): a 3 minute detection, the page
    # acknowledged after 4 minutes, resolved after 38.
    assert [(m.actual.total_seconds() / 60, m.met) for m in game_day.measures()] == [
        (3, True),
        (4, True),
        (38, True),
    ]
    assert Page.objects.filter(incident=game_day.incident, is_drill=True).exists()
    assert game_day.action_items.count() == 1 and game_day.went_well
    assert Drill.objects.get(kind=Drill.Kind.TABLETOP).status == Drill.Status.SCHEDULED

    assessment = CostAssessment.objects.get()
    assert not assessment.incident.is_drill
    assert assessment.incident.status == Incident.Status.RESOLVED
    labour = assessment.lines.get(key=CostLine.Key.ENGINEERING_TIME)
    assert labour.prefilled > 0 and labour.amount == Decimal(300)
    assert assessment.lines.get(key=CostLine.Key.LOST_REVENUE).prefilled > 0
    assert assessment.total == sum(line.value for line in assessment.lines.all())
