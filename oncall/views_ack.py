"""The one-click acknowledge link of a page message: no login, the signed token is the
credential (``oncall.acklinks``).

GET only shows a confirmation with one button (mail scanners and chat unfurlers follow GET
links and must not acknowledge anything); POST acknowledges through the engine's verb, as
the person the link names. A link that cannot be used is a 400 (not valid) or 403 (expired)
page that names nothing it was about.
"""

import logging

from django.contrib import admin
from django.shortcuts import render
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from ircore.errors import RuleError

from .acklinks import AckLinkRefused, ack_link_resolve, max_age
from .models import Page
from .services.escalation import escalation_acknowledge

logger = logging.getLogger("oncall.ack")


def _headers(response):
    # The token is in the URL: no cache may keep the page, no referrer may carry it away.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _page(request, template: str, context: dict, status: int = 200):
    context = {
        "site_header": admin.site.site_header,
        "site_title": admin.site.site_title,
        **context,
    }
    return _headers(render(request, template, context, status=status))


def _age_text() -> str:
    hours = max_age().total_seconds() / 3600
    if hours >= 1 and hours == int(hours):
        return f"{int(hours)} hour{'s' if hours != 1 else ''}"
    return f"{int(max_age().total_seconds() // 60)} minutes"


def _refused(request, refused: AckLinkRefused):
    title = "Link expired" if refused.expired else "Link not valid"
    return _page(
        request,
        "oncall/ack_refused.html",
        {"title": title, "expired": refused.expired, "max_age_text": _age_text()},
        status=403 if refused.expired else 400,
    )


def _state(page, incident) -> str:
    """What the page can still do: ``confirm``, ``already`` (acknowledged) or ``over``
    (stopped, or the incident is past needing it: ``Page.objects.live()`` says)."""
    if page.status == Page.Status.ACKNOWLEDGED:
        return "already"
    if incident.is_closed or not Page.objects.live().filter(pk=page.pk).exists():
        return "over"
    return "confirm"


@ensure_csrf_cookie
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def acknowledge(request, token: str):
    try:
        page, person, incident = ack_link_resolve(token)
    except AckLinkRefused as refused:
        return _refused(request, refused)
    state = _state(page, incident)
    if request.method == "POST" and state == "confirm":
        try:
            done = escalation_acknowledge(incident=incident, user=person, via="link", page=page)
        except RuleError as exc:
            context = _context(page, person, incident, "refused", exc.message)
            return _page(request, "oncall/ack.html", context, status=409)
        if done.acknowledged:
            logger.info("Page %s acknowledged by link by user %s", page.pk, person.pk)
            state = "done"
        else:  # another request got there first
            state = _state(Page.objects.get(pk=page.pk), incident)
    return _page(request, "oncall/ack.html", _context(page, person, incident, state))


def _context(page, person, incident, state: str, reason: str = "") -> dict:
    return {
        "title": f"Acknowledge {incident.reference}",
        "reference": incident.reference,
        "incident_title": incident.title,
        "is_drill": page.is_drill,
        "person_name": person.get_full_name() or person.get_username(),
        "state": state,
        "reason": reason,
    }
