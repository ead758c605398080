"""The on-call REST API: /api/v1/oncall/now/ and /api/v1/schedules/ (with their shifts)."""

from .views import OnCallNowView, ScheduleViewSet

__all__ = ["OnCallNowView", "ScheduleViewSet"]
