"""API rates per user and per anonymous address (DRF's throttles), counted in the "throttle"
cache (Redis, shared by every web process, when REDIS_URL is set; see config/settings.py).

A cache that cannot be reached (Redis down) skips the rate check with a log line: a rate
limit guards against a runaway client; it must not turn a cache outage into an API outage.
"""

import logging

from django.core.cache import caches
from rest_framework import throttling

from .auth import CACHE_ERRORS

logger = logging.getLogger(__name__)


class _SkipWhenCacheDown:
    cache = caches["throttle"]

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            logger.warning("API rate (%s) not checked, cache unavailable: %s", self.scope, exc)
            return True


class AnonRateThrottle(_SkipWhenCacheDown, throttling.AnonRateThrottle):
    """``API_THROTTLE_ANON`` per client address for calls without credentials."""


class UserRateThrottle(_SkipWhenCacheDown, throttling.UserRateThrottle):
    """``API_THROTTLE_USER`` per authenticated user."""
