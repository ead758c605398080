"""What ``incidents`` announces. Sent only after the transaction commits, so listeners in the
apps above (oncall, comms, postmortems, the status page) never see a change that was rolled
back. Each sends ``incident`` (the instance) and ``user`` (who did it, or None for the
system); the extra keyword arguments of each are listed beside it.

A signal makes a listener act sooner; it is never the only path to something that must
happen (the beat reconcilers are), so a listener may miss one without harm.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

incident_declared = Signal()
# Also when an acknowledgement time is first recorded by editing, or a move out of
# ``declared`` acknowledges: each incident is acknowledged once.
incident_acknowledged = Signal()
incident_severity_changed = Signal()  # + old_severity, new_severity, reason
incident_status_changed = Signal()  # + old_status, new_status
incident_resolved = Signal()
incident_closed = Signal()

logger = logging.getLogger(__name__)

# An affected service was added, changed status or was removed (not sent for the services an
# incident is declared with: ``incident_declared`` covers those).
#   + service: the ircore ``Service``
#   + old_status: its ``IncidentService.Status`` value before, None when it was added
#   + new_status: its value now, None when it was removed
#   + action: "added", "changed" or "removed"
affected_service_changed = Signal()

# Someone took a role, alone or by hand-over.
#   + assignment: the new ``RoleAssignment`` (role, user = the holder, assigned_at)
#   + previous: the ``RoleAssignment`` it relieved in a hand-over, else None
role_assigned = Signal()

# Someone's hold on a role ended: they stepped down, or handed over (then sent before the
# successor's ``role_assigned``).
#   + assignment: the relieved ``RoleAssignment`` (relieved_at set)
#   + successor: the ``RoleAssignment`` that took over, None when they just stepped down
role_relieved = Signal()

# Impact figures changed (customers affected, transactions delayed or failed, financial
# impact), with or without a threshold crossing.
#   + changes: {field: (old, new)} of the figures that changed only
impact_changed = Signal()


def send_on_commit(signal: Signal, sender: type, **kwargs) -> None:
    """Send after commit. ``robust``: the change is committed by then, so a listener that
    fails (a chat outage, a bug upstairs) is logged and must not turn it into an error for the
    caller, who would retry and declare twice; the beat reconcilers do what it missed."""

    def send() -> None:
        # send_robust: one failing listener (a comms bug) must not silence the next (paging).
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                logger.error(
                    "Listener %r of %s failed",
                    receiver,
                    sender.__name__,
                    exc_info=(type(result), result, result.__traceback__),
                )

    transaction.on_commit(send, robust=True)


__all__ = [
    "incident_declared",
    "incident_acknowledged",
    "incident_severity_changed",
    "incident_status_changed",
    "incident_resolved",
    "incident_closed",
    "affected_service_changed",
    "role_assigned",
    "role_relieved",
    "impact_changed",
    "send_on_commit",
]
