from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import health_report


@never_cache
@require_GET
def healthz(request):
    """200 with each part's state, or 503 naming the part that is down."""
    user = request.user
    healthy, report = health_report(verbose=user.is_authenticated and user.is_staff)
    return JsonResponse(report, status=200 if healthy else 503)
