"""Where a monitor posts, and the configuration to paste into it, per integration kind:
shown on the integration's admin page (with ``<token>`` in place of the token, which is
never shown again), on the page that shows a new or rotated token once (with the token),
and printed by ``manage.py create_integration``. Absolute URLs come from ``SITE_URL``
(``ircore.links``)."""

import json
from dataclasses import dataclass

from django.urls import reverse

from ircore.links import absolute_url

from .models import Integration

Kind = Integration.Kind
PLACEHOLDER = "<token>"

_ENDPOINT_NAMES = {
    Kind.ALERTMANAGER: "alerts-alertmanager",
    Kind.EVENTS: "alerts-enqueue",
    Kind.GENERIC: "alerts-generic",
}


@dataclass(frozen=True)
class Snippet:
    title: str
    text: str


def endpoint_url(kind: str) -> str:
    """The absolute URL the integration's monitor posts to."""
    return absolute_url(reverse(_ENDPOINT_NAMES[kind]))


def heartbeat_url(token: str = PLACEHOLDER) -> str:
    return absolute_url(reverse("alerts-heartbeat", args=["TOKEN"])).replace("TOKEN", token)


def _curl(url: str, body: dict, token: str | None) -> str:
    auth = f" \\\n  -H 'Authorization: Bearer {token}'" if token else ""
    data = json.dumps(body)
    json_header = " \\\n  -H 'Content-Type: application/json'"
    return f"curl -sS -X POST '{url}'{auth}{json_header} \\\n  -d '{data}'"


def snippets(integration: Integration, token: str = PLACEHOLDER) -> list[Snippet]:
    """The copy-paste configuration for this integration's kind."""
    kind = integration.kind
    url = endpoint_url(kind)
    out: list[Snippet] = []
    if kind == Kind.ALERTMANAGER:
        out.append(
            Snippet(
                "alertmanager.yml: a receiver (route your alerts to it)",
                "receivers:\n"
                f"  - name: {integration.slug}\n"
                "    webhook_configs:\n"
                f"      - url: {url}\n"
                "        send_resolved: true\n"
                "        http_config:\n"
                "          authorization:\n"
                "            type: Bearer\n"
                f"            credentials: {token}\n",
            )
        )
    elif kind == Kind.EVENTS:
        out.append(
            Snippet(
                "alertmanager.yml: PagerDuty's own notifier, pointed here",
                "receivers:\n"
                f"  - name: {integration.slug}\n"
                "    pagerduty_configs:\n"
                f"      - routing_key: {token}\n"
                f"        url: {url}\n"
                "        send_resolved: true\n",
            )
        )
        event = {
            "routing_key": token,
            "event_action": "trigger",
            "dedup_key": "disk-db-1",
            "payload": {"summary": "Disk 95% full on db-1", "source": "db-1", "severity": "error"},
        }
        out.append(Snippet("Any PagerDuty Events v2 client, or curl", _curl(url, event, None)))
    else:
        body = {
            "title": "Settlement batch failed",
            "dedup_key": "settlement-2025-03-14",
            "severity": "error",
            "status": "firing",
            "labels": {"service": "settlement"},
            "links": [{"href": "https://ci.example.org/runs/1", "text": "Run"}],
        }
        out.append(Snippet("A JSON webhook, or curl", _curl(url, body, token)))
    if integration.heartbeat_every:
        out.append(
            Snippet(
                "Heartbeat (cron, after each run; GET or POST)",
                f"curl -fsS '{heartbeat_url(token)}'",
            )
        )
    return out
