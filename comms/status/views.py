"""The public status pages: no login, no JavaScript, nothing internal (what is public is
decided in ``selectors`` and ``components``; these views only lay it out)."""

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from comms.status import page as status_page
from comms.status import selectors
from comms.status.summary import summary

# Browsers and proxies may keep a public page this long: during an outage everyone reloads.
MAX_AGE = 30


def _public(response):
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


@require_safe
def status(request):
    page = status_page.build()
    return _public(render(request, "comms/status/page.html", {"page": page}))


@require_safe
def status_json(request):
    return _public(JsonResponse(summary(status_page.build(bars=False))))


@require_safe
def incident(request, pk: int):
    found = selectors.public_incident(pk)
    if found is None:
        raise Http404("No such incident on the status page.")
    context = {"incident": found, "page_name": status_page.page_name()}
    return _public(render(request, "comms/status/incident.html", context))
