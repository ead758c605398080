"""Step 1: writing the delivery rows (idempotent on dedupe_key) and enqueueing them after commit."""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction

from ..errors import RuleError
from ..models import Delivery, NotificationEndpoint
from ._common import (
    KEY_DIGEST_PREFIX,
    KEY_MAX,
    LINK_KEY,
    SUBJECT_MAX,
    Channel,
    Status,
    _exception_text,
    _target_problem,
    logger,
)


@dataclass
class _Spec:
    channel: str
    target: str
    problem: str = ""  # non-empty: the row is written as failed with this reason


def notify_user(
    *,
    user,
    subject: str,
    body: str,
    topic: str = "",
    dedupe_key: str | None = None,
    payload: dict | None = None,
    link: str = "",
) -> list[Delivery]:
    """Message a person on every channel they can be reached on: email to ``user.email`` and,
    when both ``profile.chat_handle`` and ``settings.CHAT_WEBHOOK_URL`` are set, a chat message
    mentioning them. A person with no channel gets one failed row saying why.

    ``dedupe_key`` covers all of the person's channels (each row stores ``<key>:<channel>``):
    a second call with the same key creates nothing and returns the rows of the first. A key
    may be of any length (a long one is stored as its digest).
    ``link``: the absolute URL of the page the message is about, rendered on every channel.
    """
    specs: list[_Spec] = []
    email = (user.email or "").strip()
    if email:
        specs.append(_Spec(Channel.EMAIL, email, _target_problem(Channel.EMAIL, email)))
    handle = _chat_handle(user)
    if handle and settings.CHAT_WEBHOOK_URL:
        # The row's target is the handle; the webhook URL is read from settings at send time.
        specs.append(_Spec(Channel.CHAT, handle))
    if not specs:
        name = user.get_username()
        if handle:
            reason = (
                f"{name} has no email address, and chat handle {handle} cannot be reached "
                "because CHAT_WEBHOOK_URL is not set."
            )
        else:
            reason = f"{name} has no email address and no chat handle."
        specs.append(_Spec(Channel.EMAIL, "", reason))
    return _create(
        specs,
        recipient=user,
        endpoint=None,
        subject=subject,
        body=body,
        topic=topic,
        dedupe_key=dedupe_key,
        payload=payload,
        link=link,
    )


def notify_endpoint(
    *,
    endpoint: NotificationEndpoint,
    subject: str,
    body: str,
    topic: str = "",
    dedupe_key: str | None = None,
    payload: dict | None = None,
    link: str = "",
) -> Delivery:
    """Message a team channel, a distribution list or a webhook. An inactive endpoint or a
    malformed target gives a failed row with the reason."""
    problem = _target_problem(endpoint.kind, endpoint.target)
    if not endpoint.active:
        problem = f"Endpoint {endpoint.name!r} is inactive."
    spec = _Spec(endpoint.kind, endpoint.target.strip(), problem)
    (delivery,) = _create(
        [spec],
        recipient=None,
        endpoint=endpoint,
        subject=subject,
        body=body,
        topic=topic,
        dedupe_key=dedupe_key,
        payload=payload,
        link=link,
    )
    return delivery


def notify_email(
    *,
    address: str,
    subject: str,
    body: str,
    topic: str = "",
    dedupe_key: str | None = None,
    payload: dict | None = None,
    link: str = "",
) -> Delivery:
    """Email a raw address (e.g. a financial threshold's extra addresses). A malformed address
    gives a failed row with the reason rather than an exception, so one typo in a list does
    not stop the other messages of the caller's transaction."""
    address = (address or "").strip()
    spec = _Spec(Channel.EMAIL, address, _target_problem(Channel.EMAIL, address))
    (delivery,) = _create(
        [spec],
        recipient=None,
        endpoint=None,
        subject=subject,
        body=body,
        topic=topic,
        dedupe_key=dedupe_key,
        payload=payload,
        link=link,
    )
    return delivery


def notify_contact(
    *,
    recipient,
    channel: str,
    target: str,
    subject: str,
    body: str,
    topic: str = "",
    dedupe_key: str | None = None,
    payload: dict | None = None,
    link: str = "",
    unreachable: str = "",
) -> Delivery:
    """Message a person on one of their own contact methods: an email address, a chat handle
    (mentioned through ``settings.CHAT_WEBHOOK_URL``) or a webhook (an SMS or phone gateway).
    A target that cannot be reached gives a failed row with the reason, recorded against the
    person; ``unreachable`` is a reason the caller already knows (e.g. "alice has no email
    address"), written as such. Idempotent on ``dedupe_key`` like the others."""
    target = (target or "").strip()
    if unreachable:
        problem = unreachable
        channel = channel if channel in Channel.values else Channel.EMAIL
    elif channel == Channel.CHAT and not target.startswith(("http://", "https://")):
        if not target:
            problem = "The chat handle is empty."
        elif not settings.CHAT_WEBHOOK_URL:
            problem = f"Chat handle {target} cannot be reached because CHAT_WEBHOOK_URL is not set."
        else:
            problem = ""
    elif channel in Channel.values:
        problem = _target_problem(channel, target)
    else:
        problem = f"Unknown channel {channel!r}."
        channel = Channel.EMAIL  # the row needs a valid channel; it is failed anyway
    (delivery,) = _create(
        [_Spec(channel, target, problem)],
        recipient=recipient,
        endpoint=None,
        subject=subject,
        body=body,
        topic=topic,
        dedupe_key=dedupe_key,
        payload=payload,
        link=link,
    )
    return delivery


def _chat_handle(user) -> str:
    try:
        return (user.profile.chat_handle or "").strip()
    except ObjectDoesNotExist:
        return ""


def _create(
    specs: list[_Spec],
    *,
    recipient,
    endpoint,
    subject: str,
    body: str,
    topic: str,
    dedupe_key: str | None,
    payload: dict | None,
    link: str,
) -> list[Delivery]:
    """Write one row per spec in one transaction and enqueue the sendable ones on commit.

    With a ``dedupe_key`` the first call wins: if any row of the key exists, those rows are
    returned and nothing is written. Two concurrent first calls are settled by the unique
    constraint on ``dedupe_key``: the loser's insert fails inside its savepoint and it returns
    the winner's row.
    """
    subject = " ".join((subject or "").split())  # a header: no newlines (BadHeaderError)
    if not subject:
        raise RuleError("A notification needs a subject.", field="subject")
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    if payload is not None and not isinstance(payload, dict):
        raise RuleError("The payload must be a JSON object (a dict).", field="payload")
    topic = (topic or "")[: Delivery._meta.get_field("topic").max_length]
    link = (link or "").strip()
    if link and _target_problem(Channel.WEBHOOK, link):
        # Callers build links from SITE_URL: a misconfigured one must not block the work that
        # sends the message (an impact update, a page), so the message goes without it.
        logger.warning("Notification link %r is not an absolute http(s) URL; left out", link)
        link = ""
    if link:
        payload = {**(payload or {}), LINK_KEY: link}
    dedupe_key = _stored_key(dedupe_key) if dedupe_key else None
    keys = {spec.channel: _channel_key(dedupe_key, spec.channel) for spec in specs}

    with transaction.atomic():
        if dedupe_key:
            existing = _existing_for_key(dedupe_key)
            if existing:
                return existing
        rows: list[Delivery] = []
        for spec in specs:
            row = Delivery(
                channel=spec.channel,
                target=spec.target,
                recipient=recipient,
                endpoint=endpoint,
                subject=subject,
                body=body or "",
                payload=payload or {},
                topic=topic,
                dedupe_key=keys[spec.channel],
                status=Status.FAILED if spec.problem else Status.QUEUED,
                last_error=spec.problem,
            )
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                if row.dedupe_key is None:
                    raise
                rows.append(Delivery.objects.get(dedupe_key=row.dedupe_key))
                continue
            rows.append(row)
            if not spec.problem:
                _enqueue_on_commit(row.pk)
    return rows


def _stored_key(dedupe_key: str) -> str:
    """The key as stored: itself when it fits the column with a channel suffix, else a
    fixed-length digest of it, so callers build keys from whatever they have (a long e-mail
    address) without knowing the column's size."""
    if len(dedupe_key) <= KEY_MAX:
        return dedupe_key
    digest = hashlib.sha256(dedupe_key.encode("utf-8", "surrogatepass")).hexdigest()
    return KEY_DIGEST_PREFIX + digest


def _channel_key(dedupe_key: str | None, channel: str) -> str | None:
    return f"{dedupe_key}:{channel}" if dedupe_key else None


def _existing_for_key(dedupe_key: str) -> list[Delivery]:
    keys = [_channel_key(dedupe_key, channel) for channel in Channel.values]
    rows = {row.channel: row for row in Delivery.objects.filter(dedupe_key__in=keys)}
    return [rows[channel] for channel in Channel.values if channel in rows]


def _enqueue_on_commit(delivery_id: int) -> None:
    """Enqueue the delivery once the transaction commits.

    The hook is a named function, not a ``functools.partial``: Django logs a failing robust
    hook by its ``__qualname__``, which a partial lacks, and the AttributeError from that
    logging would skip the commit's remaining hooks and answer 500 for committed work.
    """

    def enqueue_delivery() -> None:
        _enqueue(delivery_id)

    transaction.on_commit(enqueue_delivery, robust=True)


def _enqueue(delivery_id: int) -> None:
    """Hand the delivery to a worker, or leave it queued for the reconciler. Never raises:
    it runs after the caller's commit, when an error can only turn done work into a 500."""
    from ..tasks import send_delivery_task  # tasks import this module

    try:
        # One try, no publish retries: a request waits on this call, and the beat
        # reconciler (send_due, every 30 s) is the retry.
        send_delivery_task.apply_async((delivery_id,), retry=False)
    except Exception as exc:  # broker down, refused, timed out: all mean "later"
        logger.warning(
            "Delivery %s stays queued for the reconciler: enqueueing failed (%s)",
            delivery_id,
            _exception_text(exc),
        )
