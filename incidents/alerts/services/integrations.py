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


# What ``integration_update`` changes; the kind (its endpoint and token shape), the slug and
# the token are not settings (make a new integration; rotate the token).
SETTINGS = (
    "name", "enabled", "service", "severity", "dedup_labels", "group_window", "auto_resolve",
    "heartbeat_every", "heartbeat_grace",
)  # fmt: skip
HEARTBEAT = {"heartbeat_every", "heartbeat_grace"}


def _checked(integration: Integration, name: str, value: Any) -> Any:
    """``value`` for setting ``name`` as stored, or a ``RuleError`` on that field."""
    if name == "name":
        value = (value or "").strip()
        if not value:
            raise RuleError("An integration needs a name.", field="name")
        if len(value) > Integration._meta.get_field("name").max_length:
            raise RuleError("At most 100 characters.", field="name")
        if Integration.objects.filter(name=value).exclude(pk=integration.pk).exists():
            raise RuleError(f"An integration named '{value}' exists already.", field="name")
    elif name in ("enabled", "auto_resolve"):
        if not isinstance(value, bool):
            raise RuleError("Give true or false.", field=name)
    elif name in ("service", "severity"):
        model = Service if name == "service" else Severity
        if value is not None and not isinstance(value, model):
            raise RuleError(f"Choose a {name}, or none.", field=name)
    elif name == "dedup_labels":
        if not isinstance(value, list | tuple) or not all(
            isinstance(label, str) and label.strip() for label in value
        ):
            raise RuleError("Give label names (or none).", field=name)
        value = list(dict.fromkeys(label.strip() for label in value))
    elif name == "heartbeat_every" and value is None:
        return None  # no heartbeat
    elif name in ("group_window", "heartbeat_every", "heartbeat_grace"):
        if not isinstance(value, timedelta):
            raise RuleError("Give a duration (e.g. 5m).", field=name)
        if name == "heartbeat_grace" and value < timedelta(0):
            raise RuleError("Give a grace of zero or more.", field=name)
        if name != "heartbeat_grace" and value <= timedelta(0):
            raise RuleError("Give a positive interval.", field=name)
    return value


def _stored(integration: Integration, name: str) -> Any:
    """The setting as stored; a service or severity as its row, read only by its id."""
    if name in ("service", "severity"):
        pk = getattr(integration, f"{name}_id")
        model = Service if name == "service" else Severity
        return None if pk is None else model(pk=pk)
    return getattr(integration, name)


def integration_update(
    *, integration: Integration, user: Any, now: datetime | None = None, **changes: Any
) -> Integration:
    """Change the settings named (``SETTINGS``), each checked first (a ``RuleError`` on the
    field, nothing saved), in one history row naming them. A changed heartbeat expects its
    first ping from the last one (or now), as ``integration_set_heartbeat``; an integration
    enabled again expects it from now (its pings were refused while it was disabled).
    Returns the integration, refreshed."""
    now = _now(now)
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise RuleError(f"'{unknown[0]}' is not a setting that can be changed.", field=unknown[0])
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        checked = {name: _checked(locked, name, value) for name, value in changes.items()}
        changed = [name for name, value in checked.items() if _stored(locked, name) != value]
        if not changed:
            return integration
        enabled_again = "enabled" in changed and checked["enabled"]
        for name in changed:
            setattr(locked, name, checked[name])
        fields = list(changed)
        if HEARTBEAT & set(changed) or enabled_again:
            start = now if enabled_again else (locked.last_ping_at or now)
            every, grace = locked.heartbeat_every, locked.heartbeat_grace
            locked.heartbeat_due_at = None if every is None else start + every + grace
            fields.append("heartbeat_due_at")
        _for_history(locked, user, "settings: " + ", ".join(changed))
        locked.save(update_fields=fields)
    integration.refresh_from_db()
    return integration
