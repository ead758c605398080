"""The demo data gives every demo team a schedule with someone on call now."""

from io import StringIO

import pytest
from django.core.management import call_command

from oncall.models import Layer, Schedule
from oncall.selectors import on_call_now

pytestmark = pytest.mark.django_db


def test_bootstrap_makes_a_schedule_per_team_with_someone_on_call(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("bootstrap", stdout=out)
    assert Schedule.objects.count() == 3
    assert Layer.objects.count() == 6
    rows = on_call_now()
    for row in rows:
        assert row.final is not None and row.final.user is not None
        primary, secondary = row.layers
        assert primary.user != secondary.user  # a primary and a secondary
    assert {Schedule.objects.get(team__slug="platform").time_zone} == {"America/New_York"}
    # A second run changes nothing.
    call_command("bootstrap", stdout=StringIO())
    assert Schedule.objects.count() == 3
