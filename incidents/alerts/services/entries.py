"""The timeline entries ingestion writes when alerts declare or join an incident: the first
alerts' summaries and links (``SHOWN_IN_ENTRY`` of them, however large the batch)."""

from ...models import Incident, TimelineEntry
from ...services import timeline_add
from ..models import Alert

SHOWN_IN_ENTRY = 10


def drill_text(text: str, drill: bool) -> str:
    return f"DRILL: {text}" if drill else text


def _summaries(alerts: list[Alert]) -> str:
    shown = "; ".join(a.summary[:120] for a in alerts[:SHOWN_IN_ENTRY])
    more = len(alerts) - SHOWN_IN_ENTRY
    return shown + (f" and {more} more" if more > 0 else "")


def _links(alerts: list[Alert]) -> list[dict]:
    seen, links = set(), []
    for alert in alerts[:SHOWN_IN_ENTRY]:
        for link in alert.links:
            if link["href"] not in seen:
                seen.add(link["href"])
                links.append(link)
    return links


def declared_entry(integration, incident: Incident, alerts: list[Alert], now, drill) -> None:
    first = alerts[0]
    others = f" (with {len(alerts) - 1} more)" if len(alerts) > 1 else ""
    timeline_add(
        incident=incident,
        kind=TimelineEntry.Kind.ALERT,
        text=drill_text(
            f"Declared from alert {first.summary[:200]}{others} by integration {integration.name}",
            drill,
        ),
        occurred_at=now,
        data={
            "integration": integration.slug,
            "action": "declared",
            "alerts": [a.pk for a in alerts[:SHOWN_IN_ENTRY]],
            "count": len(alerts),
            "dedup_key": first.dedup_key,
            "links": _links(alerts),
        },
    )


def attached_entry(integration, incident_id: int, alerts: list[Alert], now, drill) -> None:
    n = len(alerts)
    timeline_add(
        incident=Incident(pk=incident_id),
        kind=TimelineEntry.Kind.ALERT,
        text=drill_text(
            f"{n} alert{'s' if n != 1 else ''} from {integration.name} joined: "
            + _summaries(alerts),
            drill,
        ),
        occurred_at=now,
        data={
            "integration": integration.slug,
            "action": "attached",
            "alerts": [a.pk for a in alerts[:SHOWN_IN_ENTRY]],
            "count": n,
            "links": _links(alerts),
        },
    )
