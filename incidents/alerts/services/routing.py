"""Routing: an alert's labels to a service and a severity.

1. The integration's rules in ``position`` order: the first matching rule that names a
   service sets the service; the first that names a severity sets the severity.
2. Else the integration's default service / severity.
3. Else, for the severity only, the alert's own ``severity`` (or ``priority``) label by its
   usual words: critical/page/p1 -> the most severe level, error/high/p2 -> the second,
   warning/medium/p3 -> the third, info/low/p4 -> the fourth (clamped to the levels there are).
4. Else the least severe level. An alert without a service is stored but declares nothing
   (an incident needs an affected service).

Everything is read once (``Router``: the rules in one query, the severity levels only when
an alert needs them, steps 3 and 4), never per alert, and kept per process for a few
seconds (``router_for``; see ``cache`` for what that window means).
"""

from dataclasses import dataclass
from functools import cached_property

from ircore.models import Service, Severity

from ..models import Integration, RoutingRule
from . import cache

WORD_LEVELS = {
    "critical": 1,
    "page": 1,
    "p1": 1,
    "sev1": 1,
    "sev-1": 1,
    "error": 2,
    "high": 2,
    "major": 2,
    "p2": 2,
    "sev2": 2,
    "sev-2": 2,
    "warning": 3,
    "warn": 3,
    "medium": 3,
    "minor": 3,
    "p3": 3,
    "sev3": 3,
    "sev-3": 3,
    "info": 4,
    "low": 4,
    "p4": 4,
    "sev4": 4,
    "sev-4": 4,
}


@dataclass(frozen=True)
class Route:
    service: Service | None
    severity: Severity | None


class Router:
    """The routing of one integration, loaded once (a query, and one more for the levels
    when an alert needs them), applied to many alerts."""

    def __init__(self, integration: Integration):
        self.integration = integration
        self.rules: list[RoutingRule] = list(
            integration.rules.select_related("service", "severity").order_by("position", "id")
        )

    @cached_property
    def levels(self) -> list[Severity]:
        return list(Severity.objects.order_by("rank"))

    def _by_word(self, labels: dict[str, str]) -> Severity | None:
        for name in ("severity", "priority"):
            level = WORD_LEVELS.get(str(labels.get(name, "")).strip().lower())
            if level is not None and self.levels:
                return self.levels[min(level, len(self.levels)) - 1]
        return None

    def route(self, labels: dict[str, str]) -> Route:
        service = severity = None
        for rule in self.rules:
            if (service is None or severity is None) and rule.matches(labels):
                service = service or rule.service
                severity = severity or rule.severity
        service = service or self.integration.service
        severity = (
            severity
            or self.integration.severity
            or self._by_word(labels)
            or (self.levels[-1] if self.levels else None)
        )
        return Route(service=service, severity=severity)


def router_for(integration: Integration) -> Router:
    """The integration's router, as this process read it at most ``CACHE_SECONDS`` ago."""
    router = cache.routers.get(integration.pk)
    if router is None:
        router = Router(integration)
        cache.routers.put(integration.pk, router)
    return router
