"""The status page's settings are checked at start-up (``manage.py check``): a bad value is
named, not a 500 for the first subscriber."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from comms.checks import status_settings


@pytest.mark.parametrize("rate", ["10/hour", "10/hours", "5/min", "100/day", "2/s"])
def test_the_rates_drf_reads_pass(settings, rate):
    settings.STATUS_SUBSCRIBE_RATE = rate
    assert status_settings() == []


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("STATUS_SUBSCRIBE_RATE", "ten per hour", "STATUS_SUBSCRIBE_RATE is 'ten per hour'"),
        ("STATUS_SUBSCRIBE_RATE", "0/hour", "give a count per period"),
        ("STATUS_SUBSCRIBE_RATE", "10/fortnight", "STATUS_SUBSCRIBE_RATE is '10/fortnight'"),
        ("STATUS_CONFIRM_MAX_AGE", True, "STATUS_CONFIRM_MAX_AGE is True"),
        ("STATUS_CONFIRM_MAX_AGE", 0, "STATUS_CONFIRM_MAX_AGE is 0: give a positive number"),
        ("STATUS_CONFIRM_COOLDOWN", -5, "STATUS_CONFIRM_COOLDOWN is -5"),
    ],
)
def test_a_bad_value_stops_the_check_naming_it(settings, name, value, said):
    setattr(settings, name, value)

    with pytest.raises(SystemCheckError, match=said):
        call_command("check")
