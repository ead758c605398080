"""Status page subscribers: subscribing (double opt-in), confirming, unsubscribing, removal
by a manager, and ``fan_out``: a published customer notice to the subscribers of its
components.

Who is subscribed is never revealed: ``subscribe`` does the same thing, and its caller says
the same words, whether the target is new, pending, confirmed or unsubscribed. In every case
a confirmation link goes to the target (at most one per ``STATUS_CONFIRM_COOLDOWN``); the
subscription changes only when that link is used.

Webhooks, from a public form, would let anyone make this install send requests: they are
https on the default port only, to a host that is a name and resolves to public addresses
only (never loopback, private, link-local or reserved: no reaching the install's own network
or a cloud metadata address), and they are confirmed like e-mail (the confirmation link is
posted to the URL) before anything else is sent to them.
"""

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from comms.models import Audience, Notice, Subscriber
from comms.status import links, selectors, tokens
from comms.status.page import page_name
from ircore import notifications
from ircore.errors import RuleError
from ircore.models import Service
from ircore.validators import plain_text_problem

TARGET_MAX = Subscriber._meta.get_field("target").max_length
# Host names that only ever mean "this network".
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".localdomain")


def _cooldown() -> timedelta:
    value = settings.STATUS_CONFIRM_COOLDOWN
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


# --- Checking what the public sends -------------------------------------------------------


def _public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def webhook_problem(url: str) -> str:
    """Why ``url`` may not be a subscriber's webhook ('' if it may). Resolves the host name."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Enter a valid URL."
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme != "https" or not host:
        return "Webhooks must be https:// URLs."
    if port not in (None, 443):
        return "Webhooks must use the default https port (443)."
    if parts.username or parts.password:
        return "A webhook URL may not carry a user name or password."
    try:
        ipaddress.ip_address(host.strip("[]"))
        literal = True
    except ValueError:
        literal = False
    if literal or "." not in host or host == "localhost" or host.endswith(LOCAL_SUFFIXES):
        return "Use the public host name of the webhook, not an address or a local name."
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)}
    except (OSError, UnicodeError):
        return f"The host {host} cannot be resolved."
    if not found or not all(_public_address(a) for a in found):
        return f"The host {host} is not a public address."
    return ""


def clean_target(kind: str, target: object) -> str:
    """The target as stored, or ``RuleError`` naming the field (``email`` or ``url``)."""
    field = "email" if kind == Subscriber.Kind.EMAIL else "url"
    if kind not in Subscriber.Kind.values:
        raise RuleError("Choose e-mail or webhook.", field="kind")
    problem = plain_text_problem(target, max_length=TARGET_MAX)
    if problem:
        raise RuleError(problem, field=field)
    target = target.strip()
    if not target:
        raise RuleError("This field is required.", field=field)
    if kind == Subscriber.Kind.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise RuleError("Enter a valid e-mail address.", field=field) from None
        # The domain is case-insensitive; the local part is the mailbox's to decide.
        local, _, domain = target.rpartition("@")
        return f"{local}@{domain.lower()}"
    problem = webhook_problem(target)
    if problem:
        raise RuleError(problem, field=field)
    return target


def clean_components(component_ids: Iterable[object]) -> list[int]:
    """Public component ids, or ``RuleError`` on ``components``; empty means all of them."""
    ids = []
    for value in component_ids:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise RuleError("Choose components from the list.", field="components") from None
    ids = sorted(set(ids))
    if ids and Service.objects.filter(public=True, pk__in=ids).count() != len(ids):
        raise RuleError("Choose components from the list.", field="components")
    return ids


# --- The verbs --------------------------------------------------------------------------


def subscribe(
    *, kind: str, target: object, component_ids: Iterable[object] = (), now: datetime | None = None
) -> Subscriber:
    """Ask for a subscription: the target gets a confirmation link carrying the choice of
    components (all when none is given), unless one went to it within the cooldown. Whatever
    state the target was in, nothing else changes until that link is used."""
    now = now or timezone.now()
    target = clean_target(kind, target)
    ids = clean_components(component_ids)
    with transaction.atomic():
        subscriber, _ = Subscriber.objects.select_for_update().get_or_create(
            kind=kind, target=target
        )
        sent = subscriber.confirmation_sent_at
        if sent is not None and now - sent < _cooldown():
            return subscriber
        subscriber.confirmation_sent_at = now
        subscriber.save(update_fields=["confirmation_sent_at"])
        token = tokens.confirm_token(
            subscriber=subscriber, all_components=not ids, component_ids=ids, now=now
        )
        _send_confirmation(subscriber, token, ids, now)
    return subscriber


def _send_confirmation(subscriber: Subscriber, token: str, ids: list[int], now) -> None:
    url = links.confirm_url(token)
    following = ", ".join(selectors.component_names(ids)) if ids else "all components"
    hours = round(tokens.confirm_max_age().total_seconds() / 3600)
    subject = f"Confirm your subscription to {page_name()}"
    body = (
        f"Someone asked to send updates from {page_name()} ({following}) to this "
        f"{'address' if subscriber.kind == Subscriber.Kind.EMAIL else 'webhook'}.\n\n"
        f"To confirm, open this link within {hours} hours:\n{url}\n\n"
        "If it was not you, ignore this message: nothing will be sent."
    )
    common = {
        "subject": subject,
        "body": body,
        "topic": f"comms.subscriber:{subscriber.pk}",
        "dedupe_key": f"status:confirm:{subscriber.pk}:{int(now.timestamp())}",
        "payload": {"type": "subscription_confirmation", "confirm_url": url},
    }
    if subscriber.kind == Subscriber.Kind.EMAIL:
        notifications.notify_email(address=subscriber.target, **common)
    else:
        notifications.notify_contact(
            recipient=None, channel="webhook", target=subscriber.target, **common
        )


@dataclass(frozen=True)
class Outcome:
    subscriber: Subscriber
    changed: bool


def confirm(*, token: str, now: datetime | None = None) -> Outcome:
    """Use a confirmation link: the subscriber follows what the link carries from now on.
    Raises ``tokens.LinkRefused`` (expired or invalid)."""
    now = now or timezone.now()
    claim = tokens.read_confirmation(token, now=now)
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=claim.subscriber_id).first()
        if subscriber is None or tokens.target_digest(subscriber.target) != claim.target_digest:
            raise tokens.LinkRefused(tokens.LinkRefused.INVALID)
        ids = list(
            Service.objects.filter(public=True, pk__in=claim.component_ids).values_list(
                "pk", flat=True
            )
        )
        follows_all = claim.all_components or not ids
        before = (subscriber.state, subscriber.all_components, _component_ids(subscriber))
        subscriber.confirmed_at = subscriber.confirmed_at or now
        if subscriber.unsubscribed_at:
            subscriber.confirmed_at, subscriber.unsubscribed_at = now, None
        subscriber.all_components = follows_all
        subscriber._change_reason = "confirmed"
        subscriber.save()
        subscriber.components.set([] if follows_all else ids)
        after = ("confirmed", follows_all, set() if follows_all else set(ids))
    return Outcome(subscriber, before != after)


def _component_ids(subscriber: Subscriber) -> set[int]:
    return set(subscriber.components.values_list("pk", flat=True))


def subscriber_for_unsubscribe(token: str) -> Subscriber:
    """The subscriber an unsubscribe link is for, or ``tokens.LinkRefused``."""
    subscriber_id, digest = tokens.read_unsubscribe(token)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or tokens.target_digest(subscriber.target) != digest:
        raise tokens.LinkRefused(tokens.LinkRefused.INVALID)
    return subscriber


def unsubscribe(*, token: str, now: datetime | None = None) -> Subscriber:
    """Use an unsubscribe link (it never expires). Doing it twice changes nothing."""
    now = now or timezone.now()
    subscriber = subscriber_for_unsubscribe(token)
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if locked.unsubscribed_at is None:
            locked.unsubscribed_at = now
            locked._change_reason = "unsubscribed"
            locked.save()
    return locked


def subscriber_remove(*, subscriber: Subscriber, user) -> None:
    """A manager removes a subscriber (in history, with who)."""
    with transaction.atomic():
        subscriber._history_user = user
        subscriber._change_reason = "removed by staff"
        subscriber.delete()


PENDING_KEPT = timedelta(days=7)


def prune_pending(*, now: datetime | None = None) -> int:
    """Forget the requests nobody confirmed within ``PENDING_KEPT`` (longer than any
    confirmation link lives): an address typed into the public form by someone else must not
    stay on file, nor in the history. Returns how many were forgotten. For a daily beat task."""
    now = now or timezone.now()
    stale = Subscriber.objects.filter(
        confirmed_at__isnull=True, unsubscribed_at__isnull=True, created_at__lt=now - PENDING_KEPT
    )
    with transaction.atomic():
        ids = list(stale.values_list("pk", flat=True))
        Subscriber.objects.filter(pk__in=ids).delete()
        # After the rows: deleting them writes their last history record.
        Subscriber.history.filter(id__in=ids).delete()
    return len(ids)


# --- Fan-out ------------------------------------------------------------------------------


def fan_out(notice: Notice) -> int:
    """Send a published customer notice to every active subscriber of its components and to
    those who follow all components, once each (``dedupe_key`` per notice and subscriber, so
    a second call sends nothing). Called by ``comms.services.notices.publish`` inside its
    transaction; the messages leave after it commits (``ircore.notifications``).

    Nothing goes out for a notice the status page does not show (not published, not for
    customers, or about a drill). Returns how many subscribers were reached (rows written
    or found).
    """
    if (
        notice.status != Notice.Status.PUBLISHED
        or notice.audience != Audience.CUSTOMERS
        or notice.incident.is_drill
    ):
        return 0
    component_ids = list(notice.components.filter(public=True).values_list("pk", flat=True))
    names = selectors.component_names(component_ids)
    recipients = (
        Subscriber.objects.active()
        .following(component_ids)
        .only("id", "kind", "target", "all_components")
        .order_by("pk")
    )
    incident_link = links.incident_url(notice.incident_id)
    subject = f"[{page_name()}] {notice.subject}"
    reached = 0
    for subscriber in recipients.iterator(chunk_size=500):
        unsubscribe = links.unsubscribe_url(tokens.unsubscribe_token(subscriber=subscriber))
        common = {
            "subject": subject,
            "topic": f"comms.notice:{notice.pk}",
            "dedupe_key": f"status:notice:{notice.pk}:{subscriber.pk}",
            "link": incident_link,
        }
        if subscriber.kind == Subscriber.Kind.EMAIL:
            affected = f"Affected: {', '.join(names)}\n\n" if names else ""
            body = (
                f"{notice.body.rstrip()}\n\n{affected}"
                f"You receive this because you follow {page_name()}. "
                f"Unsubscribe: {unsubscribe}\n\nMore on the status page:"
            )
            notifications.notify_email(address=subscriber.target, body=body, **common)
        else:
            payload = {
                "type": "incident_update",
                "incident": {"id": notice.incident_id, "url": incident_link},
                "update": {
                    "id": notice.pk,
                    "subject": notice.subject,
                    "body": notice.body,
                    "published_at": notice.published_at.isoformat()
                    if notice.published_at
                    else None,
                },
                "components": names,
                "unsubscribe_url": unsubscribe,
            }
            notifications.notify_contact(
                recipient=None,
                channel="webhook",
                target=subscriber.target,
                body=notice.body,
                payload=payload,
                **common,
            )
        reached += 1
    return reached
