"""Step 2: claiming one delivery, sending it outside any transaction, recording the outcome."""

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from ..models import Delivery, NotificationEndpoint
from ._common import (
    BACKOFF_CAP,
    BACKOFF_FIRST,
    ERROR_BODY_CHARS,
    LINK_KEY,
    Channel,
    Status,
    _exception_text,
    _target_problem,
    logger,
)


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
