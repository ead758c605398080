"""One normaliser per integration kind, each turning a posted payload into ``ParsedAlert``s.

A payload error raises ``PayloadError`` with messages keyed by the field's path (``alerts[3].
labels``, ``payload.severity``); nothing has been written then. Unknown fields are not refused:
each alert keeps what it came with in ``raw``.

Shapes:
- Alertmanager, webhook version 4: ``{"version": "4", "status", "receiver", "groupKey",
  "truncatedAlerts", "groupLabels", "commonLabels", "commonAnnotations", "externalURL",
  "alerts": [{"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
  "fingerprint"}]}``. The key is the alert's ``fingerprint`` (else its labels).
- PagerDuty Events API v2: ``{"routing_key", "event_action": trigger|acknowledge|resolve,
  "dedup_key", "payload": {"summary", "source", "severity": critical|error|warning|info,
  "timestamp", "component", "group", "class", "custom_details"}, "links", "images", "client",
  "client_url"}``. A trigger without ``dedup_key`` gets one derived from its summary, source,
  component, group and class, so a retried trigger deduplicates (PagerDuty would make up a
  random one).
- Generic: one object or a list of them: ``{"title" (required), "dedup_key", "severity",
  "status": firing|resolved, "labels": {}, "links": [{"href", "text"}], "description",
  "started_at"}``; without ``dedup_key`` the key is derived from the title and labels.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..models import Alert

FIRING, RESOLVED = Alert.Status.FIRING, Alert.Status.RESOLVED
TRIGGER, ACKNOWLEDGE, RESOLVE = "trigger", "acknowledge", "resolve"
EVENT_SEVERITIES = ("critical", "error", "warning", "info")
SUMMARY_LIMIT = 1024
KEY_LIMIT = 255
# Alertmanager's "not ended yet" (Go's zero time).
ZERO_TIME_YEAR = 1


@dataclass
class ParsedAlert:
    """The one internal shape every kind is normalised to."""

    dedup_key: str
    summary: str
    action: str = TRIGGER  # trigger (firing), resolve, or acknowledge
    fingerprint: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return RESOLVED if self.action == RESOLVE else FIRING


class PayloadError(Exception):
    """A payload that cannot be read; ``errors`` maps a field's path to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _fail(path: str, message: str) -> PayloadError:
    return PayloadError({path: [message]})


def _object(value: Any, path: str, *, required: bool = False) -> dict:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise _fail(path, "This field is required." if value is None else "Must be an object.")
    return value


def _string(value: Any, path: str, *, required: bool = False, limit: int | None = None) -> str:
    if value is None or value == "":
        if required:
            raise _fail(path, "This field is required.")
        return ""
    if not isinstance(value, str):
        raise _fail(path, "Must be a string.")
    if "\x00" in value:
        raise _fail(path, "Null characters are not allowed.")
    if limit is not None and len(value) > limit:
        raise _fail(path, f"At most {limit} characters (this is {len(value)}).")
    return value


def _labels(value: Any, path: str) -> dict[str, str]:
    """Label values as text (Alertmanager's are; a generic monitor may send numbers)."""
    labels = {}
    for key, item in _object(value, path).items():
        if isinstance(item, dict | list):
            raise _fail(f"{path}.{key}", "Must be a string, a number or a boolean.")
        labels[str(key)] = "" if item is None else _string(str(item), f"{path}.{key}")
    return labels


def _time(value: Any, path: str) -> datetime | None:
    """An RFC 3339 time (Alertmanager's nanoseconds and PagerDuty's ``+0000`` included);
    Go's zero time means none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _fail(path, "Must be an RFC 3339 date and time.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(path, "Must be an RFC 3339 date and time.") from None
    if parsed.tzinfo is None:
        raise _fail(path, "Give the time zone (or Z for UTC).")
    if parsed.year <= ZERO_TIME_YEAR:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-05:00 is in year 10000 in UTC
        raise _fail(path, "Out of range (years 1 to 9999 in UTC).") from None


def _links(value: Any, path: str) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(path, "Must be a list of {href, text}.")
    links = []
    for n, item in enumerate(value):
        item = _object(item, f"{path}[{n}]", required=True)
        href = _string(item.get("href"), f"{path}[{n}].href", required=True, limit=2000)
        links.append({"href": href, "text": _string(item.get("text"), f"{path}[{n}].text")})
    return links


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text[: SUMMARY_LIMIT - 1] + "…" if len(text) > SUMMARY_LIMIT else text


def key_from_labels(labels: dict[str, str], names: list[str]) -> str:
    """The key of an integration that deduplicates on some labels (``dedup_labels``)."""
    return "labels:" + _digest({name: labels.get(name, "") for name in names})


def parse_alertmanager(payload: Any) -> list[ParsedAlert]:
    payload = _object(payload, "body", required=True)
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise _fail("alerts", "This field is required." if alerts is None else "Must be a list.")
    group_status = payload.get("status")
    context = {k: v for k, v in payload.items() if k != "alerts"}
    parsed = []
    for n, alert in enumerate(alerts):
        path = f"alerts[{n}]"
        alert = _object(alert, path, required=True)
        status = alert.get("status", group_status)
        if status not in (FIRING, RESOLVED):
            raise _fail(f"{path}.status", "Must be 'firing' or 'resolved'.")
        labels = _labels(alert.get("labels"), f"{path}.labels")
        if not labels:
            raise _fail(f"{path}.labels", "This field is required.")
        annotations = _object(alert.get("annotations"), f"{path}.annotations")
        fingerprint = _string(alert.get("fingerprint"), f"{path}.fingerprint", limit=KEY_LIMIT)
        generator = _string(alert.get("generatorURL"), f"{path}.generatorURL", limit=2000)
        links = [{"href": generator, "text": "Source"}] if generator else []
        runbook = annotations.get("runbook_url")
        if isinstance(runbook, str) and runbook:
            links.append({"href": runbook[:2000], "text": "Runbook"})
        text = next(
            (
                annotations[k]
                for k in ("summary", "title", "description", "message")
                if isinstance(annotations.get(k), str) and annotations[k].strip()
            ),
            labels.get("alertname") or "Alert",
        )
        parsed.append(
            ParsedAlert(
                dedup_key=fingerprint or "labels:" + _digest(labels),
                fingerprint=fingerprint,
                summary=_summary(text),
                action=RESOLVE if status == RESOLVED else TRIGGER,
                labels=labels,
                annotations=annotations,
                links=links,
                starts_at=_time(alert.get("startsAt"), f"{path}.startsAt"),
                ends_at=_time(alert.get("endsAt"), f"{path}.endsAt"),
                raw={**alert, "group": context},
            )
        )
    return parsed


def parse_events(payload: Any) -> list[ParsedAlert]:
    """One PagerDuty Events v2 event (``routing_key`` is the caller's concern)."""
    payload = _object(payload, "body", required=True)
    # The routing key is the integration's secret: never kept (the admin shows ``raw``).
    payload = {k: v for k, v in payload.items() if k != "routing_key"}
    action = payload.get("event_action")
    if action not in (TRIGGER, ACKNOWLEDGE, RESOLVE):
        raise _fail("event_action", "Must be one of trigger, acknowledge, resolve.")
    key = _string(payload.get("dedup_key"), "dedup_key", limit=KEY_LIMIT)
    links = _links(payload.get("links"), "links")
    if payload.get("images") is not None and not isinstance(payload["images"], list):
        raise _fail("images", "Must be a list.")
    if action != TRIGGER:
        if not key:
            raise _fail("dedup_key", f"This field is required to {action}.")
        return [ParsedAlert(dedup_key=key, summary="", action=action, raw=dict(payload))]
    body = _object(payload.get("payload"), "payload", required=True)
    summary = _string(body.get("summary"), "payload.summary", required=True, limit=SUMMARY_LIMIT)
    source = _string(body.get("source"), "payload.source", required=True, limit=KEY_LIMIT)
    severity = body.get("severity")
    if severity not in EVENT_SEVERITIES:
        raise _fail("payload.severity", f"Must be one of {', '.join(EVENT_SEVERITIES)}.")
    labels = {}
    details = body.get("custom_details")
    if isinstance(details, dict):  # scalar details route too (e.g. service=payments)
        labels.update(
            {str(k): str(v) for k, v in details.items() if isinstance(v, str | int | float)}
        )
    labels["severity"] = severity
    labels["source"] = source
    for name in ("component", "group", "class"):
        labels[name] = _string(body.get(name), f"payload.{name}", limit=KEY_LIMIT)
        if not labels[name]:
            del labels[name]
    client_url = _string(payload.get("client_url"), "client_url", limit=2000)
    if client_url:
        links.append({"href": client_url, "text": _string(payload.get("client"), "client")})
    derived = "event:" + _digest(
        summary, source, [labels.get(n) for n in ("component", "group", "class")]
    )
    return [
        ParsedAlert(
            dedup_key=key or derived,
            summary=_summary(summary),
            action=TRIGGER,
            labels=labels,
            annotations={"summary": summary, "custom_details": details},
            links=links,
            starts_at=_time(body.get("timestamp"), "payload.timestamp"),
            raw=dict(payload),
        )
    ]


def parse_generic(payload: Any) -> list[ParsedAlert]:
    items = payload if isinstance(payload, list) else [payload]
    parsed = []
    for n, item in enumerate(items):
        path = f"[{n}]." if isinstance(payload, list) else ""
        item = _object(item, path.rstrip(".") or "body", required=True)
        title = _string(item.get("title"), f"{path}title", required=True, limit=SUMMARY_LIMIT)
        status = item.get("status") or FIRING
        if status not in (FIRING, RESOLVED):
            raise _fail(f"{path}status", "Must be 'firing' or 'resolved'.")
        labels = _labels(item.get("labels"), f"{path}labels")
        severity = _string(item.get("severity"), f"{path}severity", limit=100)
        if severity:
            labels["severity"] = severity
        key = _string(item.get("dedup_key"), f"{path}dedup_key", limit=KEY_LIMIT)
        description = item.get("description")
        parsed.append(
            ParsedAlert(
                dedup_key=key or "generic:" + _digest(title, labels),
                summary=_summary(title),
                action=RESOLVE if status == RESOLVED else TRIGGER,
                labels=labels,
                annotations={"description": description} if description else {},
                links=_links(item.get("links"), f"{path}links"),
                starts_at=_time(item.get("started_at"), f"{path}started_at"),
                raw=dict(item),
            )
        )
    return parsed


PARSERS = {
    "alertmanager": parse_alertmanager,
    "events": parse_events,
    "generic": parse_generic,
}


def _unstorable(payload: Any) -> tuple[str, str] | None:
    """The path of the first text (a string or an object's key) no database stores, and why:
    a NUL character (PostgreSQL's text and jsonb refuse it) or a lone surrogate (``\\ud800``
    in JSON: not UTF-8). Walked without recursion: a payload may nest deep."""
    stack: list[tuple[str, Any]] = [("", payload)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                problem = _bad_text(key)
                if problem:
                    return path or "body", problem
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{n}]", item) for n, item in enumerate(value))
        elif isinstance(value, str):
            problem = _bad_text(value)
            if problem:
                return path or "body", problem
    return None


def _bad_text(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    if "\x00" in text:
        return "Null characters are not allowed."
    try:
        text.encode()
    except UnicodeEncodeError:
        return "Not valid Unicode (a lone surrogate)."
    return ""


def check_storable(payload: Any) -> None:
    """Refuse, naming the field, a payload with text no database can store (it would fail at
    the write, a 500, after the parse said yes), anywhere: unknown fields are kept in ``raw``.
    One pass in C when the payload is clean (the usual case); the walk only to name it."""
    try:
        text = json.dumps(payload, ensure_ascii=False)
        text.encode()
    except RecursionError:
        raise _fail("body", "Nested too deeply.") from None
    except UnicodeEncodeError:
        pass
    else:
        if "\\u0000" not in text:
            return
    found = _unstorable(payload)
    if found is not None:
        raise _fail(*found)


def parse(kind: str, payload: Any) -> list[ParsedAlert]:
    check_storable(payload)
    return PARSERS[kind](payload)
