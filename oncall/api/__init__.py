"""The on-call REST API: /api/v1/oncall/now/, /api/v1/schedules/ (with their shifts) and
/api/v1/pages/ (with acknowledge)."""

from .pages import PageViewSet
from .views import OnCallNowView, ScheduleViewSet

__all__ = ["OnCallNowView", "PageViewSet", "ScheduleViewSet"]
