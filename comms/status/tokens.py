"""Signed subscriber links: the confirmation of a subscription (double opt-in) and the
unsubscribe link every message carries.

Both are ``django.core.signing`` over a small payload with a salt of their own, so a token
signed for anything else in this install (an acknowledge link, a session) does not verify
here, and neither kind verifies as the other. They need no table and cannot be forged
without ``SECRET_KEY``. Each names the subscriber and a digest of its target, so a token
for a row that was removed and whose number came back for someone else does not work.

- A confirmation also carries the components chosen (all, or the ids) and when it was
  issued; it expires after ``STATUS_CONFIRM_MAX_AGE`` seconds (two days by default).
- An unsubscribe link never expires: a message read months later must still let its
  reader leave.

A refusal says ``expired`` or ``invalid`` only, never which part did not match.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

CONFIRM_SALT = "comms.status.confirm.v1"
UNSUBSCRIBE_SALT = "comms.status.unsubscribe.v1"
CLOCK_SKEW = timedelta(minutes=5)
TOKEN_MAX_CHARS = 1000  # a real one is under 200 (plus 8 per component chosen)


class LinkRefused(Exception):
    EXPIRED = "expired"
    INVALID = "invalid"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Confirmation:
    subscriber_id: int
    target_digest: str
    all_components: bool
    component_ids: tuple[int, ...]
    issued_at: datetime


def target_digest(target: str) -> str:
    return hashlib.sha256(target.encode("utf-8")).hexdigest()[:16]


def confirm_max_age() -> timedelta:
    value = settings.STATUS_CONFIRM_MAX_AGE
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


def confirm_token(
    *, subscriber, all_components: bool, component_ids=(), now: datetime | None = None
) -> str:
    payload = {
        "s": subscriber.pk,
        "h": target_digest(subscriber.target),
        "a": bool(all_components),
        "c": [] if all_components else sorted({int(pk) for pk in component_ids}),
        "t": int((now or timezone.now()).timestamp()),
    }
    return signing.Signer(salt=CONFIRM_SALT).sign_object(payload)


def unsubscribe_token(*, subscriber) -> str:
    payload = {"s": subscriber.pk, "h": target_digest(subscriber.target)}
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object(payload)


def _unsign(token: object, salt: str) -> dict:
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_CHARS:
        raise LinkRefused(LinkRefused.INVALID)
    try:
        payload = signing.Signer(salt=salt).unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeError):
        raise LinkRefused(LinkRefused.INVALID) from None
    if not isinstance(payload, dict):
        raise LinkRefused(LinkRefused.INVALID)
    subscriber_id, digest = payload.get("s"), payload.get("h")
    if type(subscriber_id) is not int or subscriber_id < 1 or not isinstance(digest, str):
        raise LinkRefused(LinkRefused.INVALID)
    return payload


def read_confirmation(token: object, *, now: datetime | None = None) -> Confirmation:
    payload = _unsign(token, CONFIRM_SALT)
    chosen, ids, issued = payload.get("a"), payload.get("c"), payload.get("t")
    if type(chosen) is not bool or not isinstance(ids, list) or type(issued) is not int:
        raise LinkRefused(LinkRefused.INVALID)
    if not all(type(pk) is int and pk > 0 for pk in ids):
        raise LinkRefused(LinkRefused.INVALID)
    try:
        issued_at = datetime.fromtimestamp(issued, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise LinkRefused(LinkRefused.INVALID) from None
    now = now or timezone.now()
    if issued_at > now + CLOCK_SKEW:
        raise LinkRefused(LinkRefused.INVALID)
    if now - issued_at > confirm_max_age():
        raise LinkRefused(LinkRefused.EXPIRED)
    return Confirmation(payload["s"], payload["h"], chosen, tuple(ids), issued_at)


def read_unsubscribe(token: object) -> tuple[int, str]:
    payload = _unsign(token, UNSUBSCRIBE_SALT)
    return payload["s"], payload["h"]
