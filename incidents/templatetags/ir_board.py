"""The board of what is open now, on the admin index (``{% ir_board %}``).

Read-only: it links to each incident's page and to the declare form (for those who may
declare); it changes nothing. Who sees what follows the verb table: no board without
``view_incident``, no IC column or count without ``view_roles``.

Every time is shown in the viewer's zone (``UserTimezoneMiddleware`` activates it) with the
zone's name, so "07:32 UTC" and "08:32 CET" cannot be mistaken for each other.
"""

from datetime import datetime
from typing import Any

from django import template
from django.urls import reverse
from django.utils import dateformat, timezone

from ircore import hooks
from ircore.verbs import may

from ..admin.display import humanise, regulatory_state
from ..board import Board, BoardCounts, BoardRow, TargetClock, open_board
from ..forms import safe_colour
from ..permissions import DECLARE, VIEW_INCIDENT, VIEW_ROLES
from .ir_time import zone_abbreviation

register = template.Library()


def at(moment: datetime, now: datetime) -> str:
    """A time in the viewer's zone, with the zone's name; the date too when not today."""
    local = timezone.localtime(moment)
    same_day = local.date() == timezone.localtime(now).date()
    shown = dateformat.format(local, "H:i" if same_day else "j M H:i")
    return f"{shown} {zone_abbreviation(local)}"  # the zone named as on the incident pages


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def count_line(counts: BoardCounts) -> str:
    """``3 open: 1 SEV-1, 2 SEV-2; 1 unacknowledged; 1 without IC``."""
    if counts.total == 0:
        return "0 open"
    parts = [
        f"{counts.total} open: "
        + ", ".join(f"{group.total} {group.key}" for group in counts.by_severity),
        f"{counts.unacknowledged} unacknowledged" if counts.unacknowledged else "all acknowledged",
    ]
    if counts.without_ic is not None:
        parts.append(f"{counts.without_ic} without IC" if counts.without_ic else "all with an IC")
    if counts.drills:
        parts.append(_plural(counts.drills, "drill"))
    return "; ".join(parts)


def ack_text(row: BoardRow, now: datetime) -> str:
    clock, incident = row.ack, row.incident
    done = incident.acknowledged_at
    if clock.level == "due":
        return f"ack due in {humanise(clock.remaining)}"
    if clock.level == "overdue":
        return f"ack overdue by {humanise(-clock.remaining)}"
    if clock.level == "met":
        return f"acknowledged {at(done, now)}, after {humanise(done - incident.declared_at)}"
    if clock.level == "late":
        return f"acknowledged {at(done, now)}, {humanise(done - clock.due_at)} late"
    # No target for this severity.
    return f"acknowledged {at(done, now)}" if done else "not acknowledged"


def resolve_text(clock: TargetClock) -> str:
    if clock.level == "due":
        return f"resolve due in {humanise(clock.remaining)}"
    if clock.level == "overdue":
        return f"resolve overdue by {humanise(-clock.remaining)}"
    return "no resolve target"


def _row(row: BoardRow, now: datetime, badges: list[hooks.Badge]) -> dict[str, Any]:
    incident = row.incident
    regulatory = regulatory_state(incident, now)
    if regulatory is not None:
        regulatory["due_text"] = f"deadline {at(regulatory['due_at'], now)}"
    return {
        "incident": incident,
        "url": reverse("admin:incidents_incident_change", args=[incident.pk]),
        "colour": safe_colour(incident.severity.colour),
        "declared": f"declared {at(incident.declared_at, now)}",
        "open_for": f"open for {humanise(now - incident.declared_at)}",
        "acknowledged": row.acknowledged,
        "ack_level": row.ack.level,
        "ack_text": ack_text(row, now),
        "resolve_level": row.resolve.level,
        "resolve_text": resolve_text(row.resolve),
        "ic": row.ic,
        "regulatory": regulatory,
        # What the apps above add (comms: the next update due), as (label, text, level).
        "badges": badges,
    }


@register.simple_tag(takes_context=True)
def ir_board_shown(context) -> bool:
    """Whether the viewer gets the board (the stylesheet is linked only then)."""
    return may(context["request"].user, VIEW_INCIDENT)


@register.inclusion_tag("incidents/board/board.html", takes_context=True)
def ir_board(context) -> dict[str, Any]:
    user = context["request"].user
    if not may(user, VIEW_INCIDENT):
        return {"board": None}
    now = timezone.now()
    board: Board = open_board(now=now, with_roles=may(user, VIEW_ROLES))
    changelist = reverse("admin:incidents_incident_changelist")
    # One query for all the rows (ircore.hooks.incident_badges), none when nothing is open.
    badges = hooks.incident_badges([row.incident for row in board.rows], now=now)
    return {
        "board": board,
        "as_of": at(now, now),
        "count_line": count_line(board.counts),
        "rows": [_row(row, now, badges.get(row.incident.pk, [])) for row in board.rows],
        "with_roles": board.with_roles,
        "declare_url": reverse("admin:incidents_incident_declare") if may(user, DECLARE) else "",
        "all_open_url": f"{changelist}?state=open",
    }
