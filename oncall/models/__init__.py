"""The on-call tables, by area: ``schedules`` (rotations, overrides, swaps, feeds, hand-offs)
and ``escalation`` (policies, steps, each incident's escalation and its pages). Import them
from here."""

from .escalation import (
    Escalation,
    EscalationPolicy,
    EscalationStep,
    Page,
    Point,
    point_reached,
    point_reached_q,
)
from .schedules import (
    FeedToken,
    HandoffNotice,
    Layer,
    LayerRoster,
    Override,
    RosterMember,
    Schedule,
    ShiftSwapRequest,
    Skip,
    validate_time_zone,
    weekday_digits,
)

__all__ = [
    "Escalation",
    "EscalationPolicy",
    "EscalationStep",
    "FeedToken",
    "HandoffNotice",
    "Layer",
    "LayerRoster",
    "Override",
    "Page",
    "Point",
    "RosterMember",
    "Schedule",
    "ShiftSwapRequest",
    "Skip",
    "point_reached",
    "point_reached_q",
    "validate_time_zone",
    "weekday_digits",
]
