"""What the three steps share: the log, the channels, the limits."""

import logging
from datetime import timedelta

from ..models import Delivery, NotificationEndpoint

logger = logging.getLogger("ircore.notifications")

Channel = NotificationEndpoint.Kind
Status = Delivery.Status

SUBJECT_MAX = Delivery._meta.get_field("subject").max_length
# Room for the longest per-channel suffix (":webhook") inside the stored key; a longer key
# is stored as its digest (see _stored_key).
KEY_MAX = Delivery._meta.get_field("dedupe_key").max_length - max(
    len(f":{channel}") for channel in NotificationEndpoint.Kind.values
)
KEY_DIGEST_PREFIX = "sha256:"
LINK_KEY = "link"  # where the payload keeps the message's link
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
ERROR_BODY_CHARS = 200


def _target_problem(channel: str, target: str) -> str:
    return NotificationEndpoint.target_problem(channel, target)


def _exception_text(exc) -> str:
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc)
