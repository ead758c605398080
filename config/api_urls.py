"""/api/v1/: one router. Each app keeps its viewsets in its ``api`` module (``ircore`` in
``api_views``); they are registered here, so no app imports ``config``."""

from rest_framework.routers import DefaultRouter

from comms.api import NoticeViewSet
from incidents.alerts.urls import api_patterns as alert_patterns
from incidents.api import IncidentViewSet
from ircore.api_views import IncidentTypeViewSet, ServiceViewSet, SeverityViewSet, TeamViewSet
from postmortems.api.urls import api_patterns as postmortem_patterns

router = DefaultRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("severities", SeverityViewSet, basename="severity")
router.register("incident-types", IncidentTypeViewSet, basename="incident-type")
router.register("services", ServiceViewSet, basename="service")
router.register("teams", TeamViewSet, basename="team")
router.register("notices", NoticeViewSet, basename="notice")

# The inbound alert endpoints are plain views (token auth, no throttles): see incidents.alerts.api.
urlpatterns = alert_patterns + router.urls + postmortem_patterns
