import logging
import zoneinfo

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers

logger = logging.getLogger(__name__)


class UserTimezoneMiddleware:
    """Show times in the viewer's own time zone (their profile), stored in UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz_name = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "profile", None)
            tz_name = getattr(profile, "time_zone", None)
        try:
            if tz_name:
                timezone.activate(zoneinfo.ZoneInfo(tz_name))
            else:
                timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


class PrivateApiResponseMiddleware:
    """API answers are for the caller alone: no shared cache (a proxy, a browser's disk) keeps
    them, and none serves one caller's answer to another. Applies to the API and to anything
    answered to an ``Authorization`` header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/v1/") or "HTTP_AUTHORIZATION" in request.META:
            patch_cache_control(response, no_store=True)
            patch_vary_headers(response, ["Authorization"])
        return response


# What a database that cannot answer raises: the connection is refused, lost or closed.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def unavailable_response(request, exc: BaseException) -> HttpResponse | None:
    """The 503 for a database that is down (None for any other error): the API's JSON error
    shape for /api/ callers, a plain page for people, both with ``Retry-After``."""
    if not isinstance(exc, UNAVAILABLE_ERRORS):
        return None
    logger.error("Database unavailable on %s %s: %s", request.method, request.path, exc)
    message = "The database is unavailable; try again shortly."
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": [message]}, status=503)
    else:
        response = HttpResponse(
            "<!doctype html><title>Service unavailable</title>"
            f"<h1>Service unavailable</h1><p>{message}</p>",
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """A database outage answers 503 instead of a 500 page, for the API and the admin alike.

    ``process_exception`` takes what a view raises (DRF re-raises what it does not handle);
    the project's handler500 (``ircore.views.server_error``) takes what other middleware
    raises (a session read while the database is down), with the same answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return unavailable_response(request, exception)
