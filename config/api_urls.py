"""/api/v1/: one router. Each app keeps its viewsets in its ``api`` module (``ircore`` in
``api_views``); they are registered here, so no app imports ``config``."""

from rest_framework.routers import DefaultRouter

from incidents.api import IncidentViewSet
from ircore.api_views import IncidentTypeViewSet, ServiceViewSet, SeverityViewSet, TeamViewSet

router = DefaultRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("severities", SeverityViewSet, basename="severity")
router.register("incident-types", IncidentTypeViewSet, basename="incident-type")
router.register("services", ServiceViewSet, basename="service")
router.register("teams", TeamViewSet, basename="team")

urlpatterns = router.urls
