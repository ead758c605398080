"""A postmortem as a document: Markdown (to paste into a wiki or a repository) and
print-friendly HTML (the same Markdown rendered and sanitised, with a print stylesheet).

One source: ``as_markdown`` writes the document; ``as_html`` renders that text through
``ircore.markdown`` (nh3), so whatever a section holds, the page carries no script. Times are
UTC, the one zone every reader of a shared document agrees on.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.template.loader import render_to_string

from ircore.markdown import render_markdown

from .models import ActionItem, Postmortem


def _utc(value: datetime | None) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if value else "—"


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else "—"


def _one_line(text: str) -> str:
    """Text for a list item: one line, so a newline in it cannot start a heading."""
    return " ".join(text.split())


def _or_none(text: str) -> str:
    return text.strip() or "_Not written yet._"


def _money(value: Any) -> str:
    return "—" if value is None else f"${value:,.2f}"


def _number(value: Any) -> str:
    return "—" if value is None else f"{value:,}"


def load(postmortem: Postmortem) -> Postmortem:
    """The postmortem with everything the document reads, in a fixed number of queries."""
    return (
        Postmortem.objects.select_related("incident__severity", "owner", "published_by")
        .prefetch_related("timeline", "attendees", "action_items__owner", "action_items__team")
        .get(pk=postmortem.pk)
    )


def as_markdown(postmortem: Postmortem) -> str:
    pm = load(postmortem)
    incident = pm.incident
    out: list[str] = [f"# Incident postmortem: {_one_line(incident.title)}", ""]
    facts = [
        ("Incident", incident.reference),
        ("Severity", f"{incident.severity.key} {incident.severity.name}"),
        ("Status", pm.get_status_display()),
        ("Owner", _name(pm.owner)),
        ("Impact started", _utc(incident.impact_started_at)),
        ("Detected", _utc(incident.detected_at)),
        ("Resolved", _utc(incident.resolved_at)),
        (
            "Duration",
            _duration(incident.resolved_at - incident.detected_at)
            if incident.resolved_at and incident.detected_at
            else "—",
        ),
        ("Due", _utc(pm.due_at)),
        (
            "Published",
            f"{_utc(pm.published_at)} by {_name(pm.published_by)}" if pm.published_at else "—",
        ),
    ]
    out += [f"- **{label}:** {value}" for label, value in facts]
    out.append("")

    def section(title: str, body: str) -> None:
        out.extend([f"## {title}", "", body.rstrip(), ""])

    section("Summary", _or_none(pm.summary))
    impact = [
        f"- **Customers affected:** {_number(pm.customers_affected)}",
        f"- **Transactions delayed:** {_number(pm.transactions_delayed)}",
        f"- **Transactions failed:** {_number(pm.transactions_failed)}",
        f"- **Financial impact:** {_money(pm.financial_impact)}",
        "",
        "### User impact",
        "",
        _or_none(pm.user_impact),
        "",
        "### Business impact",
        "",
        _or_none(pm.business_impact),
    ]
    section("Impact", "\n".join(impact))
    rows = [
        f"- {'★ ' if row.starred else ''}**{row.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M}** "
        f"{_one_line(row.text)}"
        for row in pm.timeline.all()
    ]
    section("Timeline", "\n".join(rows) or "_No entries._")
    cause = []
    for title, field in (
        ("Immediate cause", "immediate_cause"),
        ("Contributing factors", "contributing_factors"),
        ("Five whys", "five_whys"),
        ("Root cause", "root_cause"),
    ):
        cause += [f"### {title}", "", _or_none(getattr(pm, field)), ""]
    section("Root cause", "\n".join(cause))
    detection = [
        f"- **Time to detect:** {_duration(pm.time_to_detect)} (detected − impact started)",
        "",
    ]
    section("Detection", "\n".join([*detection, _or_none(pm.detection)]))
    section("What went well", _or_none(pm.went_well))
    section("What went poorly", _or_none(pm.went_poorly))
    items = [_item_line(item) for item in pm.action_items.all()]
    section("Action items", "\n".join(items) or "_None._")
    section("Lessons learned", _or_none(pm.lessons_learned))
    people = sorted(_name(u) for u in pm.attendees.all())
    people += [line.strip() for line in pm.other_attendees.splitlines() if line.strip()]
    meeting = [
        f"- **Date:** {_utc(pm.review_meeting_at)}",
        f"- **Attendees:** {', '.join(_one_line(p) for p in people) or '—'}",
    ]
    section("Review meeting", "\n".join(meeting))
    return "\n".join(out).rstrip() + "\n"


def _item_line(item: ActionItem) -> str:
    box = "x" if item.status == ActionItem.Status.DONE else " "
    team = f" [{item.team.name}]" if item.team_id else ""
    line = (
        f"- [{box}]{team} {_one_line(item.title)} ({item.get_kind_display()}, "
        f"{item.get_priority_display()}) - Owner: {_name(item.owner)} - Due: {item.due_on:%Y-%m-%d}"
        f" - {item.get_status_display()}"
    )
    if item.ticket_url:
        line += f" - <{item.ticket_url}>"
    return line


def as_html(postmortem: Postmortem) -> str:
    """The print-friendly page: the Markdown document, rendered and sanitised."""
    text = as_markdown(postmortem)
    return render_to_string(
        "postmortems/postmortem/print.html",
        {"postmortem": postmortem, "document": render_markdown(text)},
    )


def filename(postmortem: Postmortem, ext: str) -> str:
    return f"postmortem-{postmortem.incident.reference}.{ext}"
