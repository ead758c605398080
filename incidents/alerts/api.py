"""The inbound endpoints monitors post to. Plain Django views, not DRF: no session or CSRF
(a monitor has neither), and none of the API's per-user throttles (an overloaded tool answers
503 with ``Retry-After``, never 429: Alertmanager retries only 5xx).

Answers, in the order they are checked (none of the refusals writes anything):
- 413 body over 512 KB (PagerDuty's cap), from ``Content-Length`` and from what is read;
- 401 missing or unknown token (Alertmanager and generic: ``Authorization: Bearer``; events:
  ``routing_key`` in the body, or Bearer; heartbeats: the token in the URL);
- 403 integration disabled, or of another kind than the endpoint;
- 400 malformed JSON or a missing/invalid field, named (events: PagerDuty's error shape
  ``{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}``);
- 503 + ``Retry-After`` when the database is unavailable or a lock is not granted in time;
- success: Alertmanager 200, events 202 ``{"status": "success", "message": "Event
  processed", "dedup_key"}``, generic 202, heartbeat 200. A retried request (the same
  alerts) creates nothing new and gets the same answer.
"""

import json
import logging
from collections.abc import Callable

from django.db import IntegrityError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ircore.middleware import RETRY_AFTER_SECONDS, UNAVAILABLE_ERRORS, unavailable_response

from .models import Integration
from .services import (
    IntegrationRefused,
    PayloadError,
    heartbeat_ping,
    ingest,
    integration_for_token,
    parse,
)

logger = logging.getLogger(__name__)

MAX_BODY = 512 * 1024
Kind = Integration.Kind


class Refusal(Exception):
    def __init__(self, status: int, field: str, message: str):
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def _body(request: HttpRequest) -> bytes:
    if "CONTENT_LENGTH" not in request.META and request.META.get("HTTP_TRANSFER_ENCODING"):
        # Django reads no body without a length: a chunked post would look empty and get a
        # 400, which Alertmanager never retries. Say what is missing instead.
        raise Refusal(
            411, "Content-Length", "Give the body's length (chunked bodies are not read)."
        )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refusal(400, "Content-Length", "Not a number.") from None
    if declared > MAX_BODY:
        raise Refusal(413, "body", f"At most {MAX_BODY // 1024} KB.")
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise Refusal(413, "body", f"At most {MAX_BODY // 1024} KB.")
    return body


def _json(body: bytes):
    if not body.strip():
        raise Refusal(400, "body", "Send a JSON body.")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refusal(400, "body", f"Malformed JSON: {exc}.") from None
    except RecursionError:
        raise Refusal(400, "body", "Nested too deeply.") from None


def _bearer(request: HttpRequest) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _integration(token: str, kind: str | None) -> Integration:
    if not token:
        raise Refusal(401, "token", "Give the integration's token.")
    integration = integration_for_token(token)
    if integration is None:
        raise Refusal(401, "token", "Unknown token.")
    if not integration.enabled:
        raise Refusal(403, "integration", f"Integration {integration.name} is disabled.")
    if kind is not None and integration.kind != kind:
        raise Refusal(
            403,
            "integration",
            f"Integration {integration.name} takes {integration.get_kind_display()} posts.",
        )
    return integration


def _refused(integration: Integration, refused: IntegrationRefused) -> Refusal:
    """The integration, read again under the delivery's lock, was disabled or its token
    rotated since this process cached it (``integration_for_token``)."""
    if refused.disabled:
        return Refusal(403, "integration", f"Integration {integration.name} is disabled.")
    return Refusal(401, "token", "Unknown token.")


def _store(integration: Integration, alerts):
    """Ingest; a unique-index conflict (a concurrent duplicate got in first) is read again
    once, where it is a repeat."""
    try:
        try:
            return ingest(integration=integration, alerts=alerts, verify=True)
        except IntegrityError:
            logger.info("Alert conflict on %s; retrying as a repeat", integration.slug)
            return ingest(integration=integration, alerts=alerts, verify=True)
    except IntegrationRefused as refused:
        raise _refused(integration, refused) from None


def _unavailable(request, exc) -> JsonResponse:
    """The house's 503 (``ircore.middleware``), in JSON at /v2/enqueue too: a monitor reads
    ``Retry-After`` and tries again; its retry deduplicates like any repeat."""
    response = unavailable_response(request, exc)  # logs it; None for an IntegrityError
    message = "The database is unavailable; try again shortly."
    if response is None:  # a unique conflict twice in a row: passing, the monitor retries
        message = "Busy; try again shortly."
    response = JsonResponse({"detail": [message]}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _house(handle: Callable) -> Callable:
    """Errors in the house API shape ``{field: [messages]}``."""

    def view(request, *args, **kwargs):
        try:
            return handle(request, *args, **kwargs)
        except Refusal as refusal:
            return JsonResponse({refusal.field: [refusal.message]}, status=refusal.status)
        except PayloadError as exc:
            return JsonResponse(exc.errors, status=400)
        except (*UNAVAILABLE_ERRORS, IntegrityError) as exc:
            return _unavailable(request, exc)

    return view


@csrf_exempt
@require_POST
@_house
def alertmanager(request):
    body = _body(request)
    integration = _integration(_bearer(request), Kind.ALERTMANAGER)
    alerts = parse(Kind.ALERTMANAGER, _json(body))
    _store(integration, alerts)
    return JsonResponse({"status": "success", "alerts": len(alerts)}, status=200)


@csrf_exempt
@require_POST
@_house
def generic(request):
    body = _body(request)
    integration = _integration(_bearer(request), Kind.GENERIC)
    alerts = parse(Kind.GENERIC, _json(body))
    result = _store(integration, alerts)
    return JsonResponse({"status": "success", "dedup_keys": result.dedup_keys}, status=202)


def _invalid(status: int, errors: list[str], message: str = "Event object is invalid"):
    status_text = "invalid event" if status == 400 else "unrecognized request"
    return JsonResponse(
        {"status": status_text, "message": message, "errors": errors}, status=status
    )


@csrf_exempt
@require_POST
def events(request):
    """PagerDuty Events API v2 (``/api/v1/alerts/events/`` and ``/v2/enqueue``)."""
    try:
        body = _body(request)
        payload = _json(body)
        key = payload.get("routing_key") if isinstance(payload, dict) else None
        if key is not None and not isinstance(key, str):
            raise Refusal(400, "routing_key", "Must be a string.")
        integration = _integration(key or _bearer(request), Kind.EVENTS)
        result = _store(integration, parse(Kind.EVENTS, payload))
    except Refusal as refusal:
        return _invalid(refusal.status, [f"{refusal.field}: {refusal.message}"], refusal.message)
    except PayloadError as exc:
        return _invalid(400, [f"{k}: {m}" for k, messages in exc.errors.items() for m in messages])
    except (*UNAVAILABLE_ERRORS, IntegrityError) as exc:
        return _unavailable(request, exc)
    return JsonResponse(
        {"status": "success", "message": "Event processed", "dedup_key": result.dedup_keys[0]},
        status=202,
    )


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
@_house
def heartbeat(request, token: str):
    """A ping (GET for cron and curl, POST for the rest); any integration kind."""
    if request.method == "POST":
        _body(request)
    integration = _integration(token, None)
    try:
        heartbeat_ping(integration=integration, verify=True)
    except IntegrationRefused as refused:
        raise _refused(integration, refused) from None
    return JsonResponse({"status": "success"}, status=200)
