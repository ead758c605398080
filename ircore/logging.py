"""Log records without the secrets some URLs carry.

A few URLs open something without a login because their path holds a secret token: an
alert integration's heartbeat, an on-call calendar feed, a page message's acknowledge link,
the status page's confirm and unsubscribe links. Django's request log writes the path of
every 4xx and 5xx answer, runserver's access log writes every request line, and the
database-down handler (``ircore.middleware``) logs the path: ``RedactTokens`` replaces the
token in them with ``<redacted>``. It is a filter on those loggers (``settings.LOGGING``),
so every handler downstream, mail to the admins included, gets the redacted record.
"""

import logging
import re
from collections.abc import Iterable

# The paths whose next segment is a secret. Data: a new URL with a token in its path is a
# line here (or a ``paths`` list given to the filter in ``settings.LOGGING``).
TOKEN_PATHS = (
    "/api/v1/alerts/heartbeat/",
    "/oncall/feeds/",
    "/oncall/ack/",
    "/status/subscribe/confirm/",
    "/status/unsubscribe/",
)
REDACTED = "<redacted>"


def token_pattern(paths: Iterable[str]) -> re.Pattern[str]:
    """The token segment after any of ``paths``, up to the next ``/``, query or quote."""
    alternatives = "|".join(re.escape(path) for path in paths)
    return re.compile(f"({alternatives})[^/?#\\s\"']+")


class RedactTokens(logging.Filter):
    """Redact the token of ``paths`` in a record's message and formatted exception, and drop
    its ``request`` when that request's path is one (the admins' mail would print its path
    and headers). Never drops a record."""

    def __init__(self, paths: Iterable[str] = TOKEN_PATHS) -> None:
        super().__init__()
        self.pattern = token_pattern(paths)

    def redact(self, text: str) -> str:
        return self.pattern.sub(rf"\1{REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        path = getattr(getattr(record, "request", None), "path", None)  # runserver's: a socket
        if isinstance(path, str) and self.pattern.search(path):
            record.request = None
        return True
