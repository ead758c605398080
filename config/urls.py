from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ircore.views import healthz, not_found

admin.site.site_header = "Incident response"
admin.site.site_title = "Incident response"
admin.site.index_title = "Run the response"
# The first screen: the board of open incidents above the model list.
admin.site.index_template = "incidents/board/index.html"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

# Tools calling /api/ get a JSON 404 in the API's error shape; people get Django's page.
handler404 = not_found
