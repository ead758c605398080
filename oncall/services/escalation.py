"""The escalation services other code calls (the engine itself: ``oncall.services.engine``).

- ``policy_for(incident)``: the policy that applies.
- ``escalation_start(*, incident, now=None)``: snapshot the plan (on declaration).
- ``escalation_tick(*, now=None) -> int``: the beat reconciler; pages what is due.
- ``escalation_acknowledge(*, incident, user, via, now=None, page=None)``: stop paging.
- ``escalation_update(*, incident, now=None)``: after the incident moved; stops what its new
  state reaches and pages what a raised severity made due.
- ``clock_lag(*, now=None)``: how late the engine is, for /healthz.
"""

from .engine import (
    Acknowledged,
    clock_lag,
    escalation_acknowledge,
    escalation_advance,
    escalation_start,
    escalation_tick,
    escalation_update,
    policy_for,
)

__all__ = [
    "Acknowledged",
    "clock_lag",
    "escalation_acknowledge",
    "escalation_advance",
    "escalation_start",
    "escalation_tick",
    "escalation_update",
    "policy_for",
]
