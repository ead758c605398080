"""Per-process caches of what every delivery would otherwise read again: the integration a
token opens (``integrations.integration_for_token``) and its routing (``routing.router_for``),
each kept ``CACHE_SECONDS``.

What that window means: another process's change to an integration's settings, its routing
rules or the severity levels reaches a delivery at most ``CACHE_SECONDS`` later; a change in
this process (any save or delete of those rows) empties the caches at once. Revocation has
no window for what is written: a delivery re-reads the integration's ``enabled`` and token
hash under its lock (``lookup.read``) and is refused when the integration was disabled or its
token rotated; only a refusal that comes before that read (a 400 for a bad payload, say)
may still answer as if the old token were good, for at most ``CACHE_SECONDS``.
"""

import time
from typing import Any

from django.db.models.signals import post_delete, post_save

from ircore.models import Service, Severity

from ..models import Integration, RoutingRule

CACHE_SECONDS = 5.0
LIMIT = 1_000  # entries per cache; past it the cache starts over (unknown tokens never enter)
clock = time.monotonic  # a module attribute, so tests can move it


class Expiring:
    """A dict whose entries are forgotten ``CACHE_SECONDS`` after they were put."""

    def __init__(self) -> None:
        self._items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any:
        hit = self._items.get(key)
        if hit is None or hit[0] <= clock():
            return None
        return hit[1]

    def put(self, key: Any, value: Any) -> None:
        if len(self._items) >= LIMIT:
            self._items.clear()
        self._items[key] = (clock() + CACHE_SECONDS, value)

    def clear(self) -> None:
        self._items.clear()


tokens = Expiring()  # token hash -> Integration (with its default service and severity)
routers = Expiring()  # integration id -> routing.Router


def forget(**kwargs: Any) -> None:
    """Empty both caches (a receiver of the rows they copy being saved or deleted)."""
    tokens.clear()
    routers.clear()


for _model in (Integration, RoutingRule, Severity, Service):
    post_save.connect(forget, sender=_model, dispatch_uid=f"alerts-cache-{_model.__name__}")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"alerts-cache-del-{_model.__name__}")
