"""System checks of the status page's settings (``manage.py check``, and every start): a
bad value is named at start-up rather than answering 500 to the first subscriber."""

from django.conf import settings
from django.core.checks import Error, register


def _rate_problem() -> bool:
    """Whether the sign-up throttle cannot be made from the setting (DRF parses the rate
    when the throttle is made, as each request does), or it allows nothing."""
    from .status.throttle import SubscribeRateThrottle  # after the apps are ready

    try:
        throttle = SubscribeRateThrottle()
    except (AttributeError, KeyError, TypeError, ValueError):
        return True
    return throttle.num_requests is None or throttle.num_requests < 1


@register()
def status_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    rate = settings.STATUS_SUBSCRIBE_RATE
    if not isinstance(rate, str) or _rate_problem():
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
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            errors.append(
                Error(f"{name} is {value!r}: give a positive number of seconds.", id="comms.E002")
            )
    return errors
