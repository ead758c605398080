"""What on-call does when incidents announce something (after commit, ``incidents.signals``).

Each only makes paging sooner: the tick (``escalation_tick``) reads the incident's state
under its row lock and does the same on its own, so a missed signal delays, never loses."""

import logging

from django.db import transaction
from django.dispatch import receiver

from incidents import signals

from .services.escalation import escalation_start, escalation_update

logger = logging.getLogger(__name__)


def kick(incident_id: int) -> None:
    """Ask a worker to tick this incident now; a broker that refuses leaves it to the beat."""
    from .tasks import escalate_incident  # tasks import the services

    try:
        escalate_incident.apply_async((incident_id,), retry=False)
    except Exception as exc:  # broker down, refused, timed out: all mean "at the next tick"
        logger.warning("Escalation of incident %s waits for the next tick: %s", incident_id, exc)


@receiver(signals.incident_declared, dispatch_uid="oncall.escalation_start")
def start_escalation(sender, incident, **kwargs) -> None:
    escalation_start(incident=incident)

    def kick_after_commit() -> None:
        kick(incident.pk)

    transaction.on_commit(kick_after_commit, robust=True)


@receiver(signals.incident_acknowledged, dispatch_uid="oncall.escalation_acknowledged")
@receiver(signals.incident_status_changed, dispatch_uid="oncall.escalation_status")
@receiver(signals.incident_resolved, dispatch_uid="oncall.escalation_resolved")
@receiver(signals.incident_closed, dispatch_uid="oncall.escalation_closed")
@receiver(signals.incident_severity_changed, dispatch_uid="oncall.escalation_severity")
def update_escalation(sender, incident, **kwargs) -> None:
    escalation_update(incident=incident)
