"""Integrations: creation with a token shown once, token rotation, lookup by token."""

import copy
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from ircore.errors import RuleError
from ircore.models import Service, Severity

from ...services._base import _for_history, _now
from ..models import Integration
from . import cache

TOKEN_BYTES = 32  # 43 URL-safe characters, like a PagerDuty routing key (32+)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token), token[-4:]


def integration_for_token(token: str) -> Integration | None:
    """The integration this token opens (enabled or not: the caller answers 403 for a
    disabled one), or None. Only the hash is stored, so the lookup is by hash.

    Kept per process for ``cache.CACHE_SECONDS`` (a token is looked up on every delivery);
    each caller gets its own copy. A delivery checks the token and ``enabled`` again under
    its lock (``ingest(verify=True)``), so a cached copy never lets a revoked token write."""
    if not token or len(token) > 200:
        return None
    try:
        token.encode()
    except UnicodeEncodeError:  # a lone surrogate: no token we issue
        return None
    hashed = token_hash(token)
    found = cache.tokens.get(hashed)
    if found is None:
        found = (
            Integration.objects.select_related("service", "severity")
            .filter(token_hash=hashed)
            .first()
        )
        if found is None:
            return None  # unknown tokens are not kept: a stream of them cannot fill the cache
        cache.tokens.put(hashed, found)
    return copy.copy(found)


def integration_create(
    *,
    name: str,
    kind: str,
    service: Service | None = None,
    severity: Severity | None = None,
    user: Any,
    slug: str = "",
) -> tuple[Integration, str]:
    """A new integration and its token: returned once here, only its hash is kept."""
    name = (name or "").strip()
    if not name:
        raise RuleError("An integration needs a name.", field="name")
    if len(name) > Integration._meta.get_field("name").max_length:
        raise RuleError("At most 100 characters.", field="name")
    if kind not in Integration.Kind.values:
        kinds = ", ".join(Integration.Kind.values)
        raise RuleError(f"'{kind}' is not a kind; use one of {kinds}.", field="kind")
    slug = slugify(slug or name)[:100]
    if not slug:
        raise RuleError("Give a name with letters or digits.", field="name")
    if Integration.objects.filter(name=name).exists():
        raise RuleError(f"An integration named '{name}' exists already.", field="name")
    if Integration.objects.filter(slug=slug).exists():
        raise RuleError(f"An integration with slug '{slug}' exists already.", field="slug")
    token, hashed, hint = _new_token()
    integration = Integration(
        name=name,
        slug=slug,
        kind=kind,
        service=service,
        severity=severity,
        token_hash=hashed,
        token_hint=hint,
        created_by=user if getattr(user, "pk", None) else None,
    )
    _for_history(integration, user, "created")
    with transaction.atomic():
        integration.save()
    return integration, token


def integration_rotate_token(*, integration: Integration, user: Any) -> str:
    """A new token; the old one stops working at once."""
    token, hashed, hint = _new_token()
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        locked.token_hash, locked.token_hint = hashed, hint
        _for_history(locked, user, "token rotated")
        locked.save(update_fields=["token_hash", "token_hint"])
    integration.token_hash, integration.token_hint = hashed, hint
    return token


def integration_set_heartbeat(
    *,
    integration: Integration,
    every: timedelta | None,
    grace: timedelta | None = None,
    user: Any,
    now: datetime | None = None,
) -> Integration:
    """Expect a ping every ``every`` (None: no heartbeat); the first is due from now."""
    now = _now(now)
    if every is not None and every <= timedelta(0):
        raise RuleError("Give a positive interval.", field="heartbeat_every")
    if grace is not None and grace < timedelta(0):
        raise RuleError("Give a grace of zero or more.", field="heartbeat_grace")
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        locked.heartbeat_every = every
        if grace is not None:
            locked.heartbeat_grace = grace
        start = locked.last_ping_at or now
        locked.heartbeat_due_at = None if every is None else start + every + locked.heartbeat_grace
        _for_history(locked, user, "heartbeat")
        locked.save(update_fields=["heartbeat_every", "heartbeat_grace", "heartbeat_due_at"])
    integration.refresh_from_db()
    return integration
