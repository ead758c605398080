"""The on-call admin: schedules (layers inline, calendar, who is on call now), layers
(roster versions, skips), overrides, shift swaps, feed links and hand-off notices; escalation
policies (steps inline) and the pages they sent."""

from .contact import ContactMethodAdmin, PageAttemptAdmin
from .escalation import EscalationAdmin, EscalationPolicyAdmin
from .layer import LayerAdmin
from .pages import PageAdmin
from .records import FeedTokenAdmin, HandoffNoticeAdmin, OverrideAdmin, ShiftSwapRequestAdmin
from .schedule import ScheduleAdmin

__all__ = [
    "ContactMethodAdmin",
    "EscalationAdmin",
    "EscalationPolicyAdmin",
    "PageAdmin",
    "FeedTokenAdmin",
    "HandoffNoticeAdmin",
    "LayerAdmin",
    "OverrideAdmin",
    "PageAttemptAdmin",
    "ScheduleAdmin",
    "ShiftSwapRequestAdmin",
]
