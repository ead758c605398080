from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found

from .health import health_report


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
