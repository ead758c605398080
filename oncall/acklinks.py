"""Signed one-click acknowledge links, carried by every page message.

A link names one page, its recipient and its incident, and when it was issued. The token is
``django.core.signing`` over that payload with a salt of its own (a token signed for anything
else in this install, a password reset or a session, does not verify here), so it needs no
table and cannot be forged without ``SECRET_KEY`` (``SECRET_KEY_FALLBACKS`` keep links
valid across a key rotation). It is refused when:

- its signature does not match (tampered, truncated, another install's key);
- it is older than ``settings.ACK_LINK_MAX_AGE`` (seconds; 24 hours by default), or issued in
  the future beyond a small clock skew;
- it names another person, incident or page than the caller checks it against, or, once
  read from the database (``ack_link_resolve``), a page that is not that person's page of
  that incident, or a person who is no longer active.

Time is explicit: ``now=`` issues and checks at a given instant, so tests freeze it. The
issue time is in the payload (not the signer's own timestamp, which only reads the system
clock).

What a refusal says is deliberately coarse: ``expired`` or ``invalid``, never which part did
not match, so a guessed or altered link learns nothing about pages and people.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ircore.links import absolute_url

SALT = "oncall.acklinks.v1"
DEFAULT_MAX_AGE = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=5)  # a link "issued" this far ahead is still accepted
TOKEN_MAX_CHARS = 400  # a real token is about 100; anything longer is not ours
ACK_PATH_PREFIX = "/oncall/ack/"  # where config.urls mounts oncall.urls.ack_patterns


class AckLinkRefused(Exception):
    """The link cannot be used. ``reason`` is ``"expired"`` or ``"invalid"`` only."""

    EXPIRED = "expired"
    INVALID = "invalid"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def expired(self) -> bool:
        return self.reason == self.EXPIRED


@dataclass(frozen=True)
class AckClaim:
    """What a verified token says: this person may acknowledge this page of this incident."""

    page_id: int
    user_id: int
    incident_id: int
    issued_at: datetime


def max_age() -> timedelta:
    value = getattr(settings, "ACK_LINK_MAX_AGE", DEFAULT_MAX_AGE)
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def ack_token(*, page, now: datetime | None = None) -> str:
    """The token for ``page`` (which must have a recipient), issued at ``now``."""
    if not page.pk or not page.recipient_id or not page.incident_id:
        raise ValueError("An acknowledge link needs a saved page with a recipient.")
    issued = int((now or timezone.now()).timestamp())
    payload = {"p": page.pk, "u": page.recipient_id, "i": page.incident_id, "t": issued}
    return _signer().sign_object(payload, compress=False)


def ack_path(token: str) -> str:
    try:
        return reverse("oncall-ack", kwargs={"token": token})
    except NoReverseMatch:
        # Not routed in this URL configuration (a test's own urlconf): the documented place.
        return f"{ACK_PATH_PREFIX}{token}/"


def ack_url(*, page, now: datetime | None = None) -> str:
    """The absolute acknowledge link for ``page``'s message (under ``settings.SITE_URL``)."""
    return absolute_url(ack_path(ack_token(page=page, now=now)))


def ack_link_read(token: str, *, now: datetime | None = None) -> AckClaim:
    """The claim a token makes, checking its signature and age only (no database)."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_CHARS:
        raise AckLinkRefused(AckLinkRefused.INVALID)
    try:
        payload = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeError):
        raise AckLinkRefused(AckLinkRefused.INVALID) from None
    try:
        page_id, user_id, incident_id, issued = (payload[k] for k in ("p", "u", "i", "t"))
    except (KeyError, TypeError):
        raise AckLinkRefused(AckLinkRefused.INVALID) from None
    values = (page_id, user_id, incident_id, issued)
    if not all(type(v) is int and v > 0 for v in values):
        raise AckLinkRefused(AckLinkRefused.INVALID)
    try:
        issued_at = datetime.fromtimestamp(issued, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise AckLinkRefused(AckLinkRefused.INVALID) from None
    now = now or timezone.now()
    if issued_at > now + CLOCK_SKEW:
        raise AckLinkRefused(AckLinkRefused.INVALID)
    if now - issued_at > max_age():
        raise AckLinkRefused(AckLinkRefused.EXPIRED)
    return AckClaim(page_id, user_id, incident_id, issued_at)


def ack_link_verify(
    token: str, *, user=None, incident=None, page=None, now: datetime | None = None
) -> AckClaim:
    """``ack_link_read``, and refused unless the claim names each of ``user``, ``incident``
    and ``page`` that is given."""
    claim = ack_link_read(token, now=now)
    pairs = ((user, claim.user_id), (incident, claim.incident_id), (page, claim.page_id))
    for obj, claimed in pairs:
        if obj is not None and getattr(obj, "pk", None) != claimed:
            raise AckLinkRefused(AckLinkRefused.INVALID)
    return claim


def ack_link_resolve(token: str, *, now: datetime | None = None):
    """The page, person and incident a token is for, read from the database and checked
    against each other: ``(page, user, incident)``. Refused if the page is gone, is not that
    person's page of that incident, or the person is no longer active."""
    from .models import Page  # the models import nothing from here; keep the app load order

    claim = ack_link_read(token, now=now)
    page = (
        Page.objects.select_related("incident", "incident__severity", "recipient")
        .filter(pk=claim.page_id)
        .first()
    )
    if (
        page is None
        or page.recipient_id != claim.user_id
        or page.incident_id != claim.incident_id
        or not page.recipient.is_active
    ):
        raise AckLinkRefused(AckLinkRefused.INVALID)
    return page, page.recipient, page.incident
