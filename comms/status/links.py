"""Absolute links to the public status pages, for messages read outside the install."""

from django.urls import NoReverseMatch, reverse

from ircore.links import absolute_url

# Where config.urls mounts comms.status.urls; used when a test's own urlconf lacks them.
PREFIX = "/status/"


def _path(name: str, fallback: str, **kwargs) -> str:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return PREFIX + fallback


def page_url() -> str:
    return absolute_url(_path("status-page", ""))


def incident_url(incident_id: int) -> str:
    return absolute_url(_path("status-incident", f"incidents/{incident_id}/", pk=incident_id))


def confirm_url(token: str) -> str:
    return absolute_url(_path("status-confirm", f"subscribe/confirm/{token}/", token=token))


def unsubscribe_url(token: str) -> str:
    return absolute_url(_path("status-unsubscribe", f"unsubscribe/{token}/", token=token))
