"""The escalation engine, by area: ``plan`` (which policy, the plan snapshot, when each step
is due), ``targets`` (who a step pages now), ``tick`` (start, the reconciler, one
escalation's advance), ``stop`` (acknowledging, stopping pages, re-evaluating)."""

from .plan import Occurrence, next_due, occurrences, pending, policy_for, snapshot
from .stop import Acknowledged, escalation_acknowledge, escalation_update
from .targets import Targets, drill_participants, resolve
from .tick import (
    BATCH,
    LATE_AFTER,
    MISSED_START_WINDOW,
    clock_lag,
    escalation_advance,
    escalation_start,
    escalation_tick,
)

__all__ = [
    "BATCH",
    "LATE_AFTER",
    "MISSED_START_WINDOW",
    "Acknowledged",
    "Occurrence",
    "Targets",
    "clock_lag",
    "drill_participants",
    "escalation_acknowledge",
    "escalation_advance",
    "escalation_start",
    "escalation_tick",
    "escalation_update",
    "next_due",
    "occurrences",
    "pending",
    "policy_for",
    "resolve",
    "snapshot",
]
