"""The notices REST API (/api/v1/notices/): serializers, filters and the viewset."""

from .views import NoticeViewSet

__all__ = ["NoticeViewSet"]
