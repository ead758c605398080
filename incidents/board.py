"""The board: what is open now, for the admin index (``templatetags/ir_board.py`` shows it).

Two queries whatever the number of open incidents: the rows (open incidents with their
severity, type and, for viewers who may see roles, the current IC) and the count line (one
aggregate by severity). The rows are capped at ``BOARD_LIMIT`` so an alert storm does not
turn the first screen into a thousand-row page; the count line always counts them all.

Targets are measured from the declaration: the severity's ``ack_target`` until it is
acknowledged, its ``resolve_target`` until it is resolved (an open incident is not).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, Subquery

from .models import Incident, RoleAssignment
from .selectors import current_ic_subquery

BOARD_LIMIT = 50


@dataclass(frozen=True)
class TargetClock:
    """One open incident against one target of its severity at one instant.

    ``level``: "none" (the severity sets no target), "due" (running), "overdue", "met" (done
    in time) or "late" (done after the target).
    """

    due_at: datetime | None
    done_at: datetime | None
    now: datetime

    @property
    def level(self) -> str:
        if self.due_at is None:
            return "none"
        if self.done_at is not None:
            return "met" if self.done_at <= self.due_at else "late"
        return "due" if self.now <= self.due_at else "overdue"

    @property
    def remaining(self) -> timedelta | None:
        """Time left (negative once overdue); None without a target or once done."""
        if self.due_at is None or self.done_at is not None:
            return None
        return self.due_at - self.now


def _clock(
    start: datetime, target: timedelta | None, done: datetime | None, now: datetime
) -> TargetClock:
    return TargetClock(due_at=start + target if target is not None else None, done_at=done, now=now)


@dataclass(frozen=True)
class BoardRow:
    incident: Incident
    # The current IC's username, "" when nobody holds the role; None when not looked up
    # (the viewer may not see roles).
    ic: str | None
    ack: TargetClock
    resolve: TargetClock

    @property
    def acknowledged(self) -> bool:
        return self.incident.acknowledged_at is not None


@dataclass(frozen=True)
class SeverityCount:
    key: str
    rank: int
    total: int


@dataclass(frozen=True)
class BoardCounts:
    total: int
    by_severity: list[SeverityCount]
    unacknowledged: int
    drills: int
    # None when not counted (the viewer may not see roles).
    without_ic: int | None


@dataclass(frozen=True)
class Board:
    now: datetime
    rows: list[BoardRow]
    counts: BoardCounts
    with_roles: bool

    @property
    def more(self) -> int:
        """Open incidents beyond the rows shown."""
        return self.counts.total - len(self.rows)


def _current_ic_exists():
    return Exists(
        RoleAssignment.objects.filter(
            incident=OuterRef("pk"),
            role=RoleAssignment.Role.INCIDENT_COMMANDER,
            relieved_at__isnull=True,
        )
    )


def open_board(*, now: datetime, with_roles: bool, limit: int | None = None) -> Board:
    """Open incidents (``Incident.objects.open()``), the most severe first (lowest rank),
    then the longest open first: the oldest SEV-1 is the one most likely past its targets.

    ``with_roles`` is whether the viewer may see who holds which role; without it the IC is
    neither fetched nor counted. ``limit`` caps the rows (``BOARD_LIMIT`` by default).
    """
    limit = BOARD_LIMIT if limit is None else limit
    rows_qs = (
        Incident.objects.open()
        .select_related("severity", "incident_type")
        .order_by("severity__rank", "declared_at", "id")
    )
    if with_roles:
        rows_qs = rows_qs.annotate(ic_username=Subquery(current_ic_subquery()))
    rows = [
        BoardRow(
            incident=incident,
            ic=(incident.ic_username or "") if with_roles else None,
            ack=_clock(
                incident.declared_at,
                incident.severity.ack_target,
                incident.acknowledged_at,
                now,
            ),
            resolve=_clock(incident.declared_at, incident.severity.resolve_target, None, now),
        )
        for incident in rows_qs[:limit]
    ]

    aggregates = {
        "total": Count("id"),
        "unacknowledged": Count("id", filter=Q(acknowledged_at__isnull=True)),
        "drills": Count("id", filter=Q(is_drill=True)),
    }
    if with_roles:
        aggregates["without_ic"] = Count("id", filter=~Q(_current_ic_exists()))
    groups = list(
        Incident.objects.open()
        .values("severity__key", "severity__rank")
        .annotate(**aggregates)
        .order_by("severity__rank")
    )
    counts = BoardCounts(
        total=sum(g["total"] for g in groups),
        by_severity=[
            SeverityCount(key=g["severity__key"], rank=g["severity__rank"], total=g["total"])
            for g in groups
        ],
        unacknowledged=sum(g["unacknowledged"] for g in groups),
        drills=sum(g["drills"] for g in groups),
        without_ic=sum(g["without_ic"] for g in groups) if with_roles else None,
    )
    return Board(now=now, rows=rows, counts=counts, with_roles=with_roles)
