"""The update cadence follows the incident's moves (``incidents.signals``, after commit):
declared (plan the first update), severity changed (re-plan), status changed (resolution
drops what is not yet due; re-opening plans again).

Each only makes it sooner: ``cadence_tick`` finds and does the same on its own at the next
beat, so a missed signal delays, never loses. Connected by importing this module in
``CommsConfig.ready()``.
"""

from django.dispatch import receiver

from incidents import signals

from .services.cadence import cadence_reconcile


@receiver(signals.incident_declared, dispatch_uid="comms.cadence_declared")
@receiver(signals.incident_severity_changed, dispatch_uid="comms.cadence_severity")
@receiver(signals.incident_status_changed, dispatch_uid="comms.cadence_status")
def reconcile_cadence(sender, incident, **kwargs) -> None:
    # Waits for the incident's lock rather than skipping it: the change just committed.
    cadence_reconcile(incident_id=incident.pk, wait=True)
