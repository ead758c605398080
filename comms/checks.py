"""System checks of the status page's settings (``manage.py check``, and every start): a
bad value is named at start-up rather than answering 500 to the first subscriber."""

import re

from django.conf import settings
from django.core.checks import Error, register

# DRF's throttle format: a count per second, minute, hour or day ("10/hour", "5/min").
RATE = re.compile(r"^[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)$")


@register()
def status_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    rate = settings.STATUS_SUBSCRIBE_RATE
    if not isinstance(rate, str) or not RATE.match(rate):
        errors.append(
            Error(
                f"STATUS_SUBSCRIBE_RATE is {rate!r}: give a count per period, e.g. 10/hour "
                "(periods: second, minute, hour, day).",
                id="comms.E001",
            )
        )
    for name in ("STATUS_CONFIRM_MAX_AGE", "STATUS_CONFIRM_COOLDOWN"):
        value = getattr(settings, name)
        seconds = value.total_seconds() if hasattr(value, "total_seconds") else value
        if not isinstance(seconds, int | float) or seconds <= 0:
            errors.append(
                Error(f"{name} is {value!r}: give a positive number of seconds.", id="comms.E002")
            )
    return errors
