"""One way to send: email, chat webhook or generic webhook, with a delivery log and retries.

Every message is a ``Delivery`` row first and a network call second:

1. ``notify_user`` / ``notify_endpoint`` / ``notify_email`` write the rows (idempotent on
   ``dedupe_key``) and, after the transaction commits, enqueue ``send_delivery_task``. A
   broker that refuses is logged and leaves the row queued: never an error for the caller,
   whose work is committed by then.
2. ``deliver`` claims one row, sends it outside any transaction and records the outcome:
   sent, retrying with exponential backoff, or failed once attempts run out.
3. The beat reconciler ``send_due`` sends whatever is queued or retrying and due, so a lost
   task message, a dead worker or a broker outage only delays a message.

Every message may carry a ``link`` (an absolute URL, see ``ircore.links.absolute_url``) to
the page it is about; each channel renders it: the email's last line, a line of the chat
message, the webhook's ``"link"`` field. It is stored in the row's payload under ``"link"``.

A message that cannot be sent at all (a user with no address, an inactive endpoint) is still
written, as a failed row whose ``last_error`` says why: nothing is lost silently.
"""

import hashlib
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .errors import ConflictError, RuleError
from .models import Delivery, NotificationEndpoint

logger = logging.getLogger(__name__)

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


# --- Creating deliveries --------------------------------------------------------------------


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


def _chat_handle(user) -> str:
    try:
        return (user.profile.chat_handle or "").strip()
    except ObjectDoesNotExist:
        return ""


def _target_problem(channel: str, target: str) -> str:
    return NotificationEndpoint.target_problem(channel, target)


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
    from .tasks import send_delivery_task  # tasks import this module

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


# --- Sending --------------------------------------------------------------------------------


class SendError(Exception):
    """A failed attempt; ``permanent`` ones are not retried (they cannot succeed as they are)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def retry_backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: 1 min, 2, 4, 8, 16 ... capped at 1 h."""
    if attempts < 1:
        return BACKOFF_FIRST
    # Cap the exponent first so a large attempt count cannot overflow timedelta.
    return min(BACKOFF_FIRST * 2 ** min(attempts - 1, 16), BACKOFF_CAP)


def _lease() -> timedelta:
    """How long a claimed row is hidden from other workers while it is being sent.

    Longer than any send can take (a socket timeout applies per read, so allow several), short
    enough that a worker killed mid-send only delays the message by a few minutes.
    """
    return timedelta(seconds=max(300.0, 6 * settings.NOTIFY_HTTP_TIMEOUT))


def deliver(*, delivery_id: int, now: datetime | None = None) -> Delivery:
    """Send one delivery if it is due, and record the outcome. Safe to call twice, from two
    workers at once: at most one of them sends.

    1. Claim, in a short transaction: lock the row (``select_for_update(skip_locked=True)``;
       a row another worker holds is skipped), check it is queued/retrying and due, then count
       the attempt and move ``next_attempt_at`` one lease into the future. Committing the
       claim releases the lock, so no transaction stays open across the network call; the
       lease is what keeps other workers (the reconciler, a duplicate task) away meanwhile.
       On SQLite, where there are no row locks, the IMMEDIATE transaction mode serialises
       claims instead.
    2. Send outside any transaction.
    3. Record: sent, or retrying with backoff, or failed once ``NOTIFY_MAX_ATTEMPTS`` is
       reached (or at once for a permanent error). A failure is only written if the row still
       carries our attempt number: if our lease ran out and another worker claimed the row,
       its outcome is the one that counts. A success is always written, since it is true.

    A worker that dies between 1 and 3 leaves the row due again when the lease ends; as the
    attempt was counted when claimed, a message that keeps killing workers still runs out of
    attempts and ends failed.
    Call it outside an atomic block, as the tasks do, or the network call happens inside it.
    """
    return _deliver(delivery_id, now)[0]


def _deliver(delivery_id: int, now: datetime | None) -> tuple[Delivery, bool]:
    """``deliver``, also saying whether this call made an attempt."""
    clock = (lambda: now) if now is not None else timezone.now
    delivery, claimed = _claim(delivery_id, clock())
    if not claimed:
        return delivery, False
    try:
        _send(delivery, clock())
    except SendError as exc:
        _record_failure(delivery, str(exc)[:1000], clock(), permanent=exc.permanent)
    else:
        _record_success(delivery, clock())
    delivery.refresh_from_db()
    return delivery, True


def _claim(delivery_id: int, now: datetime) -> tuple[Delivery, bool]:
    with transaction.atomic():
        row = Delivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id).first()
        if row is None:
            # Locked by another worker (it is sending) or gone (DoesNotExist for the caller).
            return Delivery.objects.get(pk=delivery_id), False
        due = row.next_attempt_at is None or row.next_attempt_at <= now
        if row.status not in (Status.QUEUED, Status.RETRYING) or not due:
            return row, False
        if row.attempts >= settings.NOTIFY_MAX_ATTEMPTS and row.next_attempt_at is not None:
            # Attempts are counted when claimed and a recorded failure past the limit is final,
            # so a due row with no attempts left is one whose last attempt never finished.
            row.status, row.next_attempt_at = Status.FAILED, None
            row.last_error = "The last attempt never finished (the worker stopped mid-send)."
            row.save(update_fields=["status", "next_attempt_at", "last_error"])
            return row, False
        row.attempts += 1  # the row is locked (or, on SQLite, the database is)
        row.next_attempt_at = now + _lease()
        row.save(update_fields=["attempts", "next_attempt_at"])
        return row, True


def _send(delivery: Delivery, now: datetime) -> None:
    if (
        delivery.endpoint_id
        and not NotificationEndpoint.objects.filter(pk=delivery.endpoint_id, active=True).exists()
    ):
        raise SendError(
            "The endpoint was deactivated before this message was sent.", permanent=True
        )
    if delivery.channel == Channel.EMAIL:
        _send_email(delivery)
    elif delivery.channel == Channel.CHAT:
        _send_chat(delivery)
    elif delivery.channel == Channel.WEBHOOK:
        _post_json(
            delivery.target,
            {
                "subject": delivery.subject,
                "body": delivery.body,
                "link": _link(delivery),
                "topic": delivery.topic,
                "payload": delivery.payload,
                "sent_at": now.isoformat(),
            },
        )
    else:
        raise SendError(f"Unknown channel {delivery.channel!r}.", permanent=True)


def _send_email(delivery: Delivery) -> None:
    problem = _target_problem(Channel.EMAIL, delivery.target)
    if problem:
        raise SendError(problem, permanent=True)
    # Django's SMTP backend waits for ever unless EMAIL_TIMEOUT is set; never block a worker.
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or settings.NOTIFY_HTTP_TIMEOUT
    body, link = delivery.body, _link(delivery)
    if link:  # the last line, where a reader looks for "open it"
        body = f"{body.rstrip()}\n\n{link}" if body.strip() else link
    message = EmailMessage(
        subject=delivery.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.target],
        connection=get_connection(fail_silently=False, timeout=timeout),
    )
    try:
        sent = message.send(fail_silently=False)
    except Exception as exc:  # SMTP, socket and backend errors alike are a failed attempt
        raise SendError(_exception_text(exc)) from exc
    if not sent:
        raise SendError("The email backend accepted no message.")


def _send_chat(delivery: Delivery) -> None:
    if delivery.target.startswith(("http://", "https://")):
        # An endpoint: the target is the channel's own incoming webhook.
        url, mention = delivery.target, ""
    else:
        # A person: mention their handle through the one configured webhook.
        url, mention = settings.CHAT_WEBHOOK_URL, f"{delivery.target} "
        if not url:
            raise SendError("CHAT_WEBHOOK_URL is not set.", permanent=True)
    text = f"{mention}*{delivery.subject}*"
    if delivery.body:
        text += f"\n{delivery.body}"
    link = _link(delivery)
    if link:
        text += f"\n{link}"
    _post_json(url, {"text": text})


def _link(delivery: Delivery) -> str:
    """The message's link, as ``_create`` stored it (an http(s) URL), or ''."""
    link = delivery.payload.get(LINK_KEY, "") if isinstance(delivery.payload, dict) else ""
    return link if isinstance(link, str) and not _target_problem(Channel.WEBHOOK, link) else ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: urllib would turn the POST into a GET and call it success."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post_json(url: str, data: dict) -> None:
    problem = _target_problem(Channel.WEBHOOK, url)
    if problem:
        raise SendError(problem, permanent=True)
    request = urllib.request.Request(
        url,
        data=json.dumps(data, default=str).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "incident-response"},
        method="POST",
    )
    try:
        with _opener.open(request, timeout=settings.NOTIFY_HTTP_TIMEOUT) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        try:
            raw = exc.read(4 * ERROR_BODY_CHARS)
        except Exception:  # the error body is only a clue; the status code is the failure
            raw = b""
        detail = raw.decode("utf-8", "replace").strip()[:ERROR_BODY_CHARS]
        raise SendError(f"HTTP {exc.code}: {detail}" if detail else f"HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise SendError(_exception_text(exc.reason)) from exc
    except Exception as exc:  # timeouts, resets, bad responses: all a failed attempt
        raise SendError(_exception_text(exc)) from exc


def _exception_text(exc) -> str:
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc)


def _record_success(delivery: Delivery, now: datetime) -> None:
    Delivery.objects.filter(pk=delivery.pk).exclude(status=Status.SENT).update(
        status=Status.SENT, sent_at=now, next_attempt_at=None, last_error=""
    )


def _record_failure(delivery: Delivery, reason: str, now: datetime, *, permanent: bool) -> None:
    attempts = delivery.attempts
    if permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        changes = {"status": Status.FAILED, "next_attempt_at": None}
    else:
        changes = {"status": Status.RETRYING, "next_attempt_at": now + retry_backoff(attempts)}
    updated = (
        Delivery.objects.filter(pk=delivery.pk, attempts=attempts)
        .exclude(status=Status.SENT)
        .update(last_error=reason, **changes)
    )
    if not updated:
        logger.warning("Delivery %s was claimed again while attempt %s ran", delivery.pk, attempts)


# --- The reconciler and the admin's retry ---------------------------------------------------


def due_deliveries(*, now: datetime):
    """Queued or retrying rows whose time has come (no time yet means now); uses
    ``delivery_due_idx``."""
    return Delivery.objects.filter(status__in=[Status.QUEUED, Status.RETRYING]).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def send_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send up to ``limit`` due deliveries, oldest due first; returns how many were attempted.
    Rows another worker claims meanwhile are skipped by ``deliver``.

    ``now`` only selects what is due: each delivery is claimed, leased and backed off on the
    clock at its own turn, since a slow batch (dead endpoints timing out) can outlast a lease;
    claiming on the batch's start time would hand out leases that have already run out.
    """
    injected = now  # tests pin the whole batch to one instant
    now = now or timezone.now()
    ids = list(
        due_deliveries(now=now)
        .order_by(F("next_attempt_at").asc(nulls_first=True), "id")
        .values_list("pk", flat=True)[:limit]
    )
    attempted = 0
    for delivery_id in ids:
        try:
            attempted += _deliver(delivery_id, injected)[1]
        except Delivery.DoesNotExist:  # deleted since the list was read
            continue
    return attempted


def retry_now(*, delivery: Delivery) -> Delivery:
    """Queue a failed delivery again (attempts are kept, so it gets one more try) and send it
    after commit. Only failed rows: queued and retrying ones are already on their way."""
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status=Status.FAILED).update(
            status=Status.QUEUED, next_attempt_at=None
        )
        if not updated:
            current = Delivery.objects.filter(pk=delivery.pk).first()
            state = current.get_status_display().lower() if current else "deleted"
            raise ConflictError(
                f"Only failed deliveries can be retried; this one is {state}.", field="status"
            )
        _enqueue_on_commit(delivery.pk)
    delivery.refresh_from_db()
    return delivery
