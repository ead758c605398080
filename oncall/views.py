"""The iCalendar feed: no login, the token is the credential."""

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .feeds import feed_events, render_calendar
from .services import feed_token_find


@require_GET
def feed(request, token: str):
    """A schedule's or a person's shifts as text/calendar; an unknown or revoked token is a
    404, like any page that does not exist."""
    row = feed_token_find(token)
    if row is None:
        raise Http404
    now = timezone.now()
    name, events = feed_events(row, now)
    response = HttpResponse(
        render_calendar(name, events, now), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    # Proxies must not keep one person's calendar for another; search engines must not list it.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
