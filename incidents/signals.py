"""What ``incidents`` announces. Sent only after the transaction commits, so listeners in the
apps above (oncall, comms, postmortems) never see a change that was rolled back. Each sends
``incident`` (the instance) and ``user`` (who did it, or None for the system)."""

from django.db import transaction
from django.dispatch import Signal

incident_declared = Signal()
incident_acknowledged = Signal()
incident_severity_changed = Signal()  # + old_severity, new_severity, reason
incident_status_changed = Signal()  # + old_status, new_status
incident_resolved = Signal()
incident_closed = Signal()


def send_on_commit(signal: Signal, sender: type, **kwargs) -> None:
    """Send after commit. ``robust``: the change is committed by then, so a listener that
    fails (a chat outage, a bug upstairs) is logged and must not turn it into an error for the
    caller, who would retry and declare twice; the beat reconcilers do what it missed."""

    def send() -> None:
        signal.send(sender=sender, **kwargs)

    transaction.on_commit(send, robust=True)


__all__ = [
    "incident_declared",
    "incident_acknowledged",
    "incident_severity_changed",
    "incident_status_changed",
    "incident_resolved",
    "incident_closed",
    "send_on_commit",
]
