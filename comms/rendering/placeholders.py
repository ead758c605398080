"""The placeholders a template may use: the one list, read by validation (its messages list
them), the admin's help beside the template form, and the example values templates are
test-rendered with when they are saved.

``services[].name`` is the ``name`` of each item of the list ``services`` (loop over it:
``{% for s in services %}{{ s.name }}{% endfor %}``). Times are text in UTC, written
``TIME_FORMAT`` (``2025-03-14 10:15 UTC``); a time not reached yet, a figure not known or a
role nobody holds writes nothing, so ``{{ resolved_at or "not yet" }}`` reads well.
"""

from __future__ import annotations

from typing import Any

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"

PLACEHOLDERS: dict[str, str] = {
    "reference": "The incident's reference, e.g. INC-2025-03-14-001.",
    "title": "The incident's title.",
    "summary": "The incident's summary, as responders wrote it.",
    "severity.key": "The severity level's key, e.g. SEV-1 or P0.",
    "severity.name": "The severity level's name, e.g. Critical.",
    "severity.internal_update_every": (
        "How often internal updates are due at this level, e.g. 15 minutes (empty: no cadence)."
    ),
    "severity.customer_update_every": (
        "How often customer updates are due at this level, e.g. 30 minutes (empty: no cadence)."
    ),
    "status": "The incident's status: Declared, Investigating, Identified, Monitoring, "
    "Resolved or Closed.",
    "incident_type": "The incident type's name, e.g. Security breach (empty if none).",
    "drill": "Whether the incident is a drill (writes yes or no).",
    "channel": "The incident's chat channel, e.g. #incident-2025-03-14-payments-failing.",
    "services": "Every affected service (internal ones included), a list to loop over.",
    "services[].name": "The service's name.",
    "services[].status": "Its status: Operational, Degraded performance, Partial outage or "
    "Major outage.",
    "services[].icon": "A coloured dot for its status: 🟢 🟡 🟠 🔴.",
    "service_names": "The affected services' names, comma-separated.",
    "public_services": "The affected services shown on the status page, by their public "
    "names, a list to loop over.",
    "public_services[].name": "The service's name on the status page.",
    "public_services[].status": "Its status, as for services.",
    "public_services[].icon": "A coloured dot for its status.",
    "public_service_names": "The public services' status-page names, comma-separated.",
    "customers_affected": "Customers affected (a number; |number writes 1,500).",
    "transactions_delayed": "Transactions delayed (a number).",
    "transactions_failed": "Transactions failed (a number).",
    "financial_impact": "Estimated financial impact (a number; |number writes 125,000).",
    "ic": "The Incident Commander's name.",
    "ic_handle": "The Incident Commander's chat handle, e.g. @maria (empty if none).",
    "tech_lead": "The Tech Lead's name.",
    "comms_lead": "The Communications Lead's name.",
    "exec_sponsor": "The Executive Sponsor's name.",
    "smes": "The Subject Matter Experts' names (a list; written comma-separated).",
    "impact_started_at": "When impact started.",
    "detected_at": "When the problem was detected.",
    "declared_at": "When the incident was declared.",
    "acknowledged_at": "When it was acknowledged.",
    "mitigated_at": "When it was mitigated.",
    "resolved_at": "When it was resolved.",
    "now": "The time the message is drafted.",
    "duration": "From detection (or declaration) to resolution, or to now while open, "
    "e.g. 55 minutes or 2 hours 5 minutes.",
    "next_update_at": "When the next internal update is due (empty: none due).",
    "next_customer_update_at": "When the next customer update is due (empty: none due).",
    "status_page_url": "The public status page's address.",
    "incident_url": "The incident's page in this tool (for people who can log in).",
}

# Not for customers' eyes: a customer template shows them only if it names them (the
# shipped customer templates name none), and the admin's help marks them.
INTERNAL: frozenset[str] = frozenset(
    {
        "summary",
        "incident_type",
        "drill",
        "channel",
        "services",
        "services[].name",
        "services[].status",
        "services[].icon",
        "service_names",
        "customers_affected",
        "transactions_delayed",
        "transactions_failed",
        "financial_impact",
        "ic",
        "ic_handle",
        "tech_lead",
        "comms_lead",
        "exec_sponsor",
        "smes",
        "next_update_at",
        "incident_url",
    }
)

# A context as ``context_for`` builds it, with every placeholder set: templates are
# test-rendered against it when saved, and the admin's help shows it.
EXAMPLE: dict[str, Any] = {
    "reference": "INC-2025-03-14-001",
    "title": "Payment processing delays",
    "summary": "Card payments take 30 seconds to 2 minutes; a query plan changed.",
    "severity": {
        "key": "SEV-2",
        "name": "High",
        "internal_update_every": "15 minutes",
        "customer_update_every": "30 minutes",
    },
    "status": "Investigating",
    "incident_type": "Service outage",
    "drill": False,
    "channel": "#incident-2025-03-14-payment-processing-delays",
    "services": [
        {"name": "Payments API", "status": "Major outage", "icon": "🔴"},
        {"name": "Internal Admin", "status": "Degraded performance", "icon": "🟡"},
    ],
    "service_names": "Payments API, Internal Admin",
    "public_services": [{"name": "Payments", "status": "Major outage", "icon": "🔴"}],
    "public_service_names": "Payments",
    "customers_affected": 500,
    "transactions_delayed": 27500,
    "transactions_failed": 0,
    "financial_impact": 12500,
    "ic": "Maria Lopez",
    "ic_handle": "@maria",
    "tech_lead": "Raj Patel",
    "comms_lead": "Sam Green",
    "exec_sponsor": "Lee Chen",
    "smes": ["Dana Fox"],
    "impact_started_at": "2025-03-14 10:10 UTC",
    "detected_at": "2025-03-14 10:15 UTC",
    "declared_at": "2025-03-14 10:18 UTC",
    "acknowledged_at": "2025-03-14 10:20 UTC",
    "mitigated_at": "2025-03-14 11:05 UTC",
    "resolved_at": "2025-03-14 11:10 UTC",
    "now": "2025-03-14 10:45 UTC",
    "duration": "55 minutes",
    "next_update_at": "2025-03-14 11:00 UTC",
    "next_customer_update_at": "2025-03-14 11:15 UTC",
    "status_page_url": "https://ir.example.com/status/",
    "incident_url": "https://ir.example.com/admin/incidents/incident/1/change/",
}


def flatten(context: dict[str, Any], prefix: str = "") -> list[str]:
    """The placeholder names a context holds, in the documented spelling."""
    names = []
    for key, value in context.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            names.extend(flatten(value, f"{name}."))
            continue
        names.append(name)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            names.extend(flatten(value[0], f"{name}[]."))
    return names


def example(name: str) -> Any:
    """The example value of a documented placeholder (``services[].name`` -> the first
    service's), for the admin's help."""
    value: Any = EXAMPLE
    for part in name.split("."):
        if isinstance(value, list):
            value = value[0]
        value = value[part.removesuffix("[]")]
    return value
