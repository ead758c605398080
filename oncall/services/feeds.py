"""Calendar feed tokens: made (shown once), found by their hash, revoked."""

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ircore.errors import ConflictError, RuleError

from ..models import FeedToken, Schedule
from ..permissions import MANAGE_FEEDS, OWN_FEED, may
from ._base import attributed, now_or, text

User = AbstractBaseUser
TOKEN_BYTES = 32  # 256 bits: unguessable, so a fast hash is enough to store it


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_make_feed(user, *, schedule: Schedule | None = None, person=None) -> bool:
    """Anyone who may make feeds makes their own; schedules' and others' need more."""
    if schedule is None and person is not None and person.pk == getattr(user, "pk", None):
        return may(user, OWN_FEED)
    return may(user, MANAGE_FEEDS)


def may_revoke_feed(user, token: FeedToken) -> bool:
    if token.user_id is not None and token.user_id == getattr(user, "pk", None):
        return may(user, OWN_FEED)
    return may(user, MANAGE_FEEDS)


def feed_token_create(
    *,
    by: User,
    schedule: Schedule | None = None,
    person: User | None = None,
    label: str = "",
    now: datetime | None = None,
) -> tuple[FeedToken, str]:
    """A feed link for a schedule or a person; returns the row and the token, which is
    never stored and cannot be shown again."""
    if (schedule is None) == (person is None):
        raise RuleError("Choose a schedule or a person, not both.", field="schedule")
    if person is not None and not person.is_active:
        raise RuleError(f"{person.get_username()} is not an active user.", field="user")
    if not may_make_feed(by, schedule=schedule, person=person):
        raise RuleError(
            "You may make a feed of your own shifts only.",
            field="schedule" if schedule is not None else "user",
        )
    label = text("label", label, limit=100)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        row = attributed(
            FeedToken(
                schedule=schedule,
                user=person,
                token_hash=token_hash(token),
                hint=token[-4:],
                label=label,
                created_by=by,
                created_at=now_or(now),
            ),
            by,
        )
        row.save()
    return row, token


def feed_token_revoke(*, token: FeedToken, by: User, now: datetime | None = None) -> FeedToken:
    """The link stops working at once (404); the row stays as the record."""
    if not may_revoke_feed(by, token):
        raise RuleError("You may revoke your own feeds only.", field="user")
    with transaction.atomic():
        row = FeedToken.objects.select_for_update().get(pk=token.pk)
        if row.revoked_at is not None:
            raise ConflictError("This feed link is revoked already.", field="revoked_at")
        row.revoked_at = now_or(now)
        attributed(row, by).save()
    return row


def feed_token_find(raw: str) -> FeedToken | None:
    """The active token with this text, or None (unknown, revoked, or its person gone)."""
    if not raw or len(raw) > 200:
        return None
    row = (
        FeedToken.objects.filter(token_hash=token_hash(raw), revoked_at__isnull=True)
        .select_related("schedule", "user")
        .first()
    )
    if row is None or (row.user_id is not None and not row.user.is_active):
        return None
    return row
