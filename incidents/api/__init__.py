"""The incidents REST API (/api/v1/incidents/): serializers, filters and the viewset."""

from .views import IncidentViewSet

__all__ = ["IncidentViewSet"]
