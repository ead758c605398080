import sys

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from .health import health_report
from .middleware import unavailable_response


@never_cache
@require_GET
def healthz(request):
    """200 with each part's state, or 503 naming the part that is down."""
    user = request.user
    healthy, report = health_report(verbose=user.is_authenticated and user.is_staff)
    return JsonResponse(report, status=200 if healthy else 503)


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": ["Not found."]}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    """handler500: a database outage raised outside a view (in middleware) is a 503 like one
    raised inside it; an API caller gets the API's JSON error shape; anyone else Django's page.
    Django calls it while handling the exception, so ``sys.exc_info()`` holds it."""
    exc = sys.exc_info()[1]
    if exc is not None:
        response = unavailable_response(request, exc)
        if response is not None:
            return response
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": ["Server error."]}, status=500)
    return django_server_error(request)
