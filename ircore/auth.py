"""Who is calling, and how often they may fail: the client's address, the login lockout
backend (django-axes) and API token authentication that stops a client guessing tokens."""

import logging
import time

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from redis.exceptions import RedisError
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled

logger = logging.getLogger(__name__)

# What a cache in trouble raises (Redis down; the database cache's table unreadable). A rate
# limit that cannot be read is skipped with a log line, never turned into a 500.
CACHE_ERRORS = (RedisError, DatabaseError, OSError)


def client_ip(request) -> str:
    """The caller's address: REMOTE_ADDR, or with ``PROXY_COUNT`` reverse proxies in front,
    the address the outermost of them saw (that many entries from the right of
    X-Forwarded-For; the entries further left are the client's to write, so never trusted).
    One definition for the login lockout, the token throttle and DRF's rates (NUM_PROXIES)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return remote


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every login made over HTTP (the admin's form passes the
    request). ``authenticate()`` without a request is not a login from a client (a shell, a
    management command, the test client's ``login()``): there is nobody to throttle, so it is
    let through to the next backend instead of raising, as axes itself would."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class ThrottledTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with a limit on failures per client address: after
    ``API_TOKEN_FAILURE_LIMIT`` bad tokens within ``API_TOKEN_FAILURE_WINDOW``, every token
    from that address (a right one too, or guessing would go on) answers 429 with
    ``Retry-After`` until the window that began with the first failure ends.

    Counted in the shared cache, so every web process sees the same count. A request with no
    ``Authorization: Token`` header costs nothing here."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        key = f"ircore:token-failures:{client_ip(request)}"
        failures, window_ends = self._read(key)
        limit = settings.API_TOKEN_FAILURE_LIMIT
        if failures >= limit:
            wait = max(1, round(window_ends - time.time()))
            logger.warning(
                "API token refused from %s: %s failed tokens, locked for %ss",
                client_ip(request),
                failures,
                wait,
            )
            raise Throttled(wait=wait, detail="Too many failed token authentications.")
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            self._count_failure(key, failures, window_ends)
            logger.warning(
                "API token authentication failed from %s (%s of %s)",
                client_ip(request),
                failures + 1,
                limit,
            )
            raise

    @staticmethod
    def _window() -> tuple[int, float]:
        """The fixed window now falls in (its number, when it ends): counts are per window,
        so each failure is one atomic increment rather than a read-modify-write that parallel
        guesses would overwrite."""
        size = settings.API_TOKEN_FAILURE_WINDOW.total_seconds()
        index = int(time.time() // size)
        return index, (index + 1) * size

    @classmethod
    def _read(cls, key: str) -> tuple[int, float]:
        index, ends = cls._window()
        try:
            value = cache.get(f"{key}:{index}", 0)
        except CACHE_ERRORS as exc:
            logger.warning("Token failure count unreadable, not enforced: %s", exc)
            return 0, ends
        return int(value), ends

    @classmethod
    def _count_failure(cls, key: str, failures: int, window_ends: float) -> None:
        index, ends = cls._window()
        counter, remaining = f"{key}:{index}", max(1, round(ends - time.time()))
        try:
            cache.add(counter, 0, timeout=remaining)
            cache.incr(counter)  # atomic on Redis; in-process on the others
            # The database cache's incr rewrites the row with the default timeout.
            cache.touch(counter, timeout=remaining)
        except (ValueError, *CACHE_ERRORS) as exc:  # ValueError: expired in between
            logger.warning("Token failure not counted: %s", exc)
