"""Who is on call when: the rotation maths, on plain values (no database).

The rules, as PagerDuty and GoAlert have them, and how time zones enter:

1. **Shifts.** A layer's k-th shift starts at its hand-off time on ``start_date`` plus k
   lengths. Lengths in days (daily, weekly, every two weeks, every N days) are counted on the
   schedule's local calendar, so a 09:00 hand-off stays at 09:00 local across daylight-saving
   changes (that shift is an hour shorter or longer). Lengths in hours are elapsed hours (an
   hour that does not exist cannot be anyone's shift, and a fall-back night does not hand one
   person two). A local time that does not exist (02:30 on a spring-forward night) is read
   with the offset before the change, i.e. an hour later on the new clock.
2. **Rosters.** Each roster version holds the participants from its date on: it takes over
   at the first shift starting on or after that date's local midnight, *continuing the
   order*: the person whose turn it would have been keeps it (or, if they left, the next of
   the old order who stayed), then the new order goes on from there. The past and the shift
   in progress never change.
3. **Skips.** A skipped participant's time (from the hand-off time on the skip's day, for N
   days) is covered by the next participant in the order who is not skipped then; the order
   itself goes on as if the skipped person had taken the shift, so nobody else's turn moves.
4. **Restrictions.** A layer restricted to hours and/or weekdays has nobody outside them
   (a window passing midnight belongs to the day it starts on); the rotation clock runs on.
5. **Overrides** replace whoever the layer has (or nobody) inside its active hours; where
   overrides overlap, the one created later wins.
6. **Final.** Of a schedule's layers, the lowest level that has someone wins.
"""

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from math import floor
from zoneinfo import ZoneInfo

ROTATION = "rotation"
COVER = "cover"
OVERRIDE = "override"


@dataclass(frozen=True)
class RosterVersion:
    effective_from: date
    members: tuple[int, ...]


@dataclass(frozen=True)
class SkipSpec:
    user_id: int
    day: date
    days: int = 1


@dataclass(frozen=True)
class OverrideSpec:
    id: int
    user_id: int
    start: datetime
    end: datetime
    # Later-created wins: (created_at, id) orders them.
    created: tuple = ()


@dataclass(frozen=True)
class Span:
    """Someone on call on one layer (or the final schedule) from ``start`` to ``end``."""

    start: datetime
    end: datetime
    user_id: int
    layer_id: int
    kind: str = ROTATION
    override_id: int | None = None
    covers_user_id: int | None = None  # for a skip cover: who was skipped

    @property
    def key(self) -> tuple:
        return (self.user_id, self.layer_id, self.kind, self.override_id, self.covers_user_id)


@dataclass(frozen=True)
class Handoff:
    at: datetime
    layer_id: int
    outgoing_id: int | None
    incoming_id: int


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as a UTC instant (fold=0: see rule 1)."""
    return local.replace(tzinfo=zone).astimezone(UTC)


def local_naive(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


@dataclass
class LayerPlan:
    layer_id: int
    level: int
    zone: ZoneInfo
    start_date: date
    handoff_time: time
    length_days: int | None  # a calendar length ...
    length_hours: int | None  # ... or an elapsed one
    active_from: time | None = None
    active_until: time | None = None
    active_days: frozenset[int] = frozenset()  # ISO weekdays; empty: every day
    rosters: list[RosterVersion] = field(default_factory=list)
    skips: list[SkipSpec] = field(default_factory=list)
    overrides: list[OverrideSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._anchor_local = datetime.combine(self.start_date, self.handoff_time)
        self._anchor = to_utc(self._anchor_local, self.zone)
        self._chain = self._roster_chain()
        self._skip_ranges = [
            (
                s.user_id,
                self._at_handoff(s.day),
                self._at_handoff(s.day + timedelta(days=s.days)),
            )
            for s in self.skips
        ]
        self._overrides = sorted(self.overrides, key=lambda o: o.created or (o.id,))

    # --- rule 1: shifts ---------------------------------------------------------------------

    def _at_handoff(self, day: date) -> datetime:
        return to_utc(datetime.combine(day, self.handoff_time), self.zone)

    def shift_start(self, k: int) -> datetime:
        if self.length_days:
            return to_utc(self._anchor_local + timedelta(days=k * self.length_days), self.zone)
        return self._anchor + timedelta(hours=k * self.length_hours)

    def shift_index(self, instant: datetime) -> int:
        """The k whose shift holds ``instant`` (negative before the rotation starts)."""
        if self.length_days:
            elapsed = local_naive(instant, self.zone) - self._anchor_local
            k = floor(elapsed / timedelta(days=self.length_days))
        else:
            k = floor((instant - self._anchor) / timedelta(hours=self.length_hours))
        # The wall clock and the instant disagree by up to an hour around a DST change.
        while self.shift_start(k) > instant:
            k -= 1
        while self.shift_start(k + 1) <= instant:
            k += 1
        return k

    def _first_shift_from(self, instant: datetime) -> int:
        k = self.shift_index(instant)
        return k if self.shift_start(k) >= instant else k + 1

    def takes_over_at(self, day: date) -> datetime:
        """When a roster version dated ``day`` would take over: the first hand-off on or
        after that day's local midnight (never before the rotation's start)."""
        midnight = to_utc(datetime.combine(day, time()), self.zone)
        return self.shift_start(max(self._first_shift_from(midnight), 0))

    # --- rule 2: rosters --------------------------------------------------------------------

    def _roster_chain(self) -> list[tuple[int, tuple[int, ...], int]]:
        """(first shift, members, offset) per roster version in force for at least a shift."""
        chain: list[tuple[int, tuple[int, ...], int]] = []
        for version in sorted(self.rosters, key=lambda v: v.effective_from):
            midnight = to_utc(datetime.combine(version.effective_from, time()), self.zone)
            k = max(self._first_shift_from(midnight), 0)  # as in takes_over_at
            while chain and chain[-1][0] >= k:
                chain.pop()  # superseded before it had a shift of its own
            offset = self._continued_offset(chain[-1], k, version.members) if chain else 0
            chain.append((k, version.members, offset))
        return chain

    @staticmethod
    def _continued_offset(previous, k: int, members: tuple[int, ...]) -> int:
        first, old, offset = previous
        if not old or not members:
            return 0
        due = (k - first + offset) % len(old)
        for step in range(len(old)):
            candidate = old[(due + step) % len(old)]
            if candidate in members:
                return members.index(candidate)
        return 0

    def roster_at(self, k: int) -> tuple[tuple[int, ...], int | None]:
        """(members, index of the person due) for shift k; (members, None) if nobody."""
        if k < 0 or not self._chain:
            return (), None
        i = bisect_right([entry[0] for entry in self._chain], k) - 1
        if i < 0:
            return (), None
        first, members, offset = self._chain[i]
        if not members:
            return members, None
        return members, (k - first + offset) % len(members)

    # --- rules 3-5: one shift's pieces ------------------------------------------------------

    def _skipped(self, user_id: int, instant: datetime) -> bool:
        return any(u == user_id and s <= instant < e for u, s, e in self._skip_ranges)

    def _windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The active windows meeting [start, end): the whole range when unrestricted."""
        if self.active_from is None and not self.active_days:
            return [(start, end)]
        begin, until = self.active_from or time(), self.active_until or time()
        windows = []
        day = local_naive(start, self.zone).date() - timedelta(days=1)
        last = local_naive(end, self.zone).date()
        while day <= last:
            if not self.active_days or day.isoweekday() in self.active_days:
                ends_on = day if until > begin else day + timedelta(days=1)
                w_start = to_utc(datetime.combine(day, begin), self.zone)
                w_end = to_utc(datetime.combine(ends_on, until), self.zone)
                if w_start < end and w_end > start and w_start < w_end:
                    windows.append((max(w_start, start), min(w_end, end)))
            day += timedelta(days=1)
        return windows

    def _pieces(self, k: int, start: datetime, end: datetime) -> Iterator[Span]:
        windows = self._windows(start, end)
        if not windows:
            return
        members, due = self.roster_at(k)
        overrides = [o for o in self._overrides if o.start < end and o.end > start]
        cuts = {start, end}
        cuts.update(t for w in windows for t in w)
        cuts.update(t for o in overrides for t in (o.start, o.end))
        if due is not None:
            cuts.update(t for u, s, e in self._skip_ranges for t in (s, e) if u in members)
        points = sorted(t for t in cuts if start <= t <= end)
        for a, b in zip(points, points[1:], strict=False):
            if not any(ws <= a < we for ws, we in windows):
                continue
            winner = None
            for o in overrides:  # sorted by creation: the last that holds ``a`` wins
                if o.start <= a < o.end:
                    winner = o
            if winner is not None:
                yield Span(a, b, winner.user_id, self.layer_id, OVERRIDE, override_id=winner.id)
                continue
            if due is None:
                continue
            person = members[due]
            if not self._skipped(person, a):
                yield Span(a, b, person, self.layer_id)
                continue
            for step in range(1, len(members)):
                cover = members[(due + step) % len(members)]
                if not self._skipped(cover, a):
                    yield Span(a, b, cover, self.layer_id, COVER, covers_user_id=person)
                    break

    def spans(self, start: datetime, end: datetime) -> list[Span]:
        """Who is on this layer over [start, end), merged where nothing changes."""
        return list(merge(self.iter_spans(start, end)))

    def iter_spans(self, start: datetime, end: datetime | None = None) -> Iterator[Span]:
        """Unmerged pieces from ``start`` on, shift by shift (for ever if no ``end``)."""
        k = self.shift_index(start)
        while end is None or start < end:
            if k < 0:
                # Before the rotation starts nobody is due: one piece, for the overrides.
                boundary, k_next = self._anchor, 0
            else:
                boundary, k_next = self.shift_start(k + 1), k + 1
            piece_end = boundary if end is None else min(boundary, end)
            yield from self._pieces(k, start, piece_end)
            k, start = k_next, piece_end


def merge(spans: Iterable[Span], key=lambda s: s.key) -> Iterator[Span]:
    """Join touching spans with the same ``key``."""
    current = None
    for span in spans:
        if current is not None and current.end == span.start and key(current) == key(span):
            current = Span(
                current.start,
                span.end,
                current.user_id,
                current.layer_id,
                current.kind,
                current.override_id,
                current.covers_user_id,
            )
            continue
        if current is not None:
            yield current
        current = span
    if current is not None:
        yield current


def final_spans(per_layer: dict[int, list[Span]], levels: dict[int, int]) -> list[Span]:
    """The schedule's final on-call: at each moment, the lowest level that has someone."""
    cuts = sorted({t for spans in per_layer.values() for s in spans for t in (s.start, s.end)})
    order = sorted(per_layer, key=lambda layer_id: levels[layer_id])
    cursors = dict.fromkeys(order, 0)
    pieces = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        for layer_id in order:
            spans, i = per_layer[layer_id], cursors[layer_id]
            while i < len(spans) and spans[i].end <= a:
                i += 1
            cursors[layer_id] = i
            if i < len(spans) and spans[i].start <= a:
                s = spans[i]
                pieces.append(
                    Span(a, b, s.user_id, s.layer_id, s.kind, s.override_id, s.covers_user_id)
                )
                break
    return list(merge(pieces))


def handoffs(spans: Iterable[Span]) -> Iterator[Handoff]:
    """Each moment a layer's person changes: from the previous person who had it (even after
    a gap, such as the night of a layer restricted to working hours) to the next."""
    previous = None
    for span in merge(spans, key=lambda s: s.user_id):
        if previous is None or previous != span.user_id:
            yield Handoff(span.start, span.layer_id, previous, span.user_id)
        previous = span.user_id
