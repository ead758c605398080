"""What the learning layer does when incidents announce something (after commit).

A resolution opens the postmortem its severity requires (or moves a policy deadline to the
new resolution) at once; ``postmortems_open_missed`` on the beat does the same for any the
signal missed, so the signal only makes it sooner."""

from django.dispatch import receiver

from incidents import signals

from .services.postmortems import postmortem_follow_resolution


@receiver(signals.incident_resolved, dispatch_uid="postmortems.open_on_resolution")
def open_on_resolution(sender, incident, **kwargs) -> None:
    postmortem_follow_resolution(incident=incident)
