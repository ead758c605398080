from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from incidents.alerts.urls import enqueue_patterns
from ircore.views import healthz, not_found, server_error
from oncall.urls import ack_patterns as oncall_ack_patterns
from oncall.urls import api_patterns as oncall_api_patterns
from oncall.urls import feed_patterns as oncall_feed_patterns

admin.site.site_header = "Incident response"
admin.site.site_title = "Incident response"
admin.site.index_title = "Run the response"
# The first screen: the board of open incidents above the model list.
admin.site.index_template = "incidents/board/index.html"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("config.api_urls")),
    # PagerDuty Events v2 at PagerDuty's own path, for clients that only take a base URL.
    path("", include(enqueue_patterns)),
    path("api/v1/", include(oncall_api_patterns)),
    # Calendar feeds: no login, an unguessable revocable token in the URL.
    path("oncall/feeds/", include(oncall_feed_patterns)),
    # One-click acknowledge links from page messages: no login, a signed expiring token.
    path("oncall/ack/", include(oncall_ack_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script from a URL of its own (?script=): no inline script, so
    # the Content-Security-Policy needs no exception. Swagger UI itself comes from the sidecar.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="ircore/api_docs.html"
        ),
        name="api-docs",
    ),
    # The public status page, its JSON and feed, subscriptions: no login, nothing internal.
    path("", include("comms.status.urls")),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

# Tools calling /api/ get a JSON 404 in the API's error shape; people get Django's page.
handler404 = not_found
# A database outage outside a view is a 503 too (see ircore.middleware).
handler500 = server_error
