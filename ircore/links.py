"""Absolute links to this install's pages, for messages read outside it (email, chat)."""

from django.conf import settings


def absolute_url(path: str) -> str:
    """``path`` (e.g. ``incident.get_absolute_url()`` or a ``reverse()``) under
    ``settings.SITE_URL``, keeping any path prefix SITE_URL has (``https://x/ir``). An already
    absolute URL is returned as it is."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{settings.SITE_URL.rstrip('/')}/{path.lstrip('/')}"
