"""The subscribe form's rate: ``STATUS_SUBSCRIBE_RATE`` requests per client address (10 an
hour by default), counted like the API's rates (DRF's throttle in the shared "throttle"
cache, the address from ``ircore.auth.client_ip``, a cache outage lets the request through)."""

from django.conf import settings

from ircore.auth import client_ip
from ircore.throttling import AnonRateThrottle


class SubscribeRateThrottle(AnonRateThrottle):
    scope = "status_subscribe"

    def get_rate(self) -> str:
        return settings.STATUS_SUBSCRIBE_RATE

    def get_cache_key(self, request, view) -> str:
        # Signed-in staff count too: the form is public and a session is no licence to flood.
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}
