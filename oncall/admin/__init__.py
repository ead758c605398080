"""The on-call admin: schedules (layers inline, calendar, who is on call now), layers
(roster versions, skips), overrides, shift swaps, feed links and hand-off notices."""

from .contact import ContactMethodAdmin, PageAttemptAdmin  # noqa: F401
from .layer import LayerAdmin
from .records import FeedTokenAdmin, HandoffNoticeAdmin, OverrideAdmin, ShiftSwapRequestAdmin
from .schedule import ScheduleAdmin

__all__ = [
    "FeedTokenAdmin",
    "HandoffNoticeAdmin",
    "LayerAdmin",
    "OverrideAdmin",
    "ScheduleAdmin",
    "ShiftSwapRequestAdmin",
]
