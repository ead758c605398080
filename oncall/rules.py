"""The seeds' rotation rules, checked when a rotation is saved, as warnings a manager may
accept (``004_*``: "Minimum 2 engineers per rotation (primary + secondary)", "No more than 1
week per month per engineer").

They read the pattern alone (rosters and rotations, not overrides or skips, which are the
exceptions people make on purpose), over this calendar month and the next two, or up to two
months past the latest roster change. Durations are counted on the schedule's wall clock, so
a week across a DST change is still one week.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .models import Schedule
from .rotation import Span, local_naive, to_utc
from .selectors import load_layers, people_of, plan_of

MONTHS_AHEAD = 2
MAX_A_MONTH = timedelta(days=7)


@dataclass(frozen=True)
class RotationWarning:
    code: str  # few_people, no_secondary, gap, over_a_week
    key: tuple
    message: str

    def __str__(self) -> str:
        return self.message


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


def _wall(span_start: datetime, span_end: datetime, zone) -> timedelta:
    return local_naive(span_end, zone) - local_naive(span_start, zone)


def _shown(instant: datetime, zone) -> str:
    return instant.astimezone(zone).strftime("%a %d %b %Y %H:%M")


def _hours(value: timedelta) -> str:
    hours = value.total_seconds() / 3600
    return f"{hours:.0f} hour{'s' if round(hours) != 1 else ''}"


def rotation_warnings(*, schedule: Schedule, today: date) -> list[RotationWarning]:
    """Every way the schedule's rotations break the seeds' rules from ``today``'s month on."""
    zone = schedule.zone
    # The pattern alone: the overrides and skips that come along are not read.
    noon = to_utc(datetime.combine(today, time(12)), zone)
    layers = load_layers(noon, noon, layers=schedule.layers.all())
    latest = max([today, *(v.effective_from for layer in layers for v in layer.roster_versions)])
    first_month = _month_start(today)
    last_month = _add_months(latest, MONTHS_AHEAD)  # exclusive
    start = to_utc(datetime.combine(first_month, time()), zone)
    end = to_utc(datetime.combine(_add_months(last_month, 1), time()), zone)
    check_from = max(start, to_utc(datetime.combine(today, time()), zone))
    names = _names(layers)
    warnings: list[RotationWarning] = []

    per_layer: dict[int, list[Span]] = {}
    for layer in layers:
        layer.schedule = schedule
        plan = plan_of(layer, zone=zone, with_exceptions=False)
        per_layer[layer.pk] = plan.spans(start, end)
        for roster in layer.roster_versions:
            members = list(roster.members)
            if len(members) < 2 and plan.takes_over_at(roster.effective_from) < end:
                who = ", ".join(names[m] for m in members) or "nobody"
                warnings.append(
                    RotationWarning(
                        "few_people",
                        ("few_people", layer.pk, roster.effective_from),
                        f"{layer.name} rotates fewer than two people from "
                        f"{roster.effective_from:%d %b %Y} (only {who}): a primary and a "
                        "secondary need two.",
                    )
                )
    warnings += _coverage(per_layer, check_from, end, zone, names)
    warnings += _over_a_week(per_layer, first_month, last_month, zone, names)
    return warnings


def _names(layers) -> dict[int, str]:
    return {pk: u.get_full_name() or u.get_username() for pk, u in people_of(layers).items()}


def _coverage(per_layer, start, end, zone, names) -> list[RotationWarning]:
    """Times with nobody on call, and times with only one person (no secondary)."""
    cuts = sorted(
        {start, end} | {t for spans in per_layer.values() for s in spans for t in (s.start, s.end)}
    )
    cuts = [t for t in cuts if start <= t <= end]
    gaps: list[tuple[datetime, datetime]] = []
    alone: list[tuple[datetime, datetime, int]] = []
    cursors = dict.fromkeys(per_layer, 0)
    for a, b in zip(cuts, cuts[1:], strict=False):
        present = set()
        for layer_id, spans in per_layer.items():
            i = cursors[layer_id]
            while i < len(spans) and spans[i].end <= a:
                i += 1
            cursors[layer_id] = i
            if i < len(spans) and spans[i].start <= a:
                present.add(spans[i].user_id)
        if not present:
            gaps.append((a, b))
        elif len(present) == 1:
            alone.append((a, b, next(iter(present))))
    found = []
    if gaps:
        total = sum((b - a for a, b in gaps), timedelta())
        found.append(
            RotationWarning(
                "gap",
                ("gap",),
                f"Nobody is on call for {_hours(total)} before {_shown(end, zone)}, "
                f"first from {_shown(gaps[0][0], zone)}.",
            )
        )
    if alone:
        total = sum((b - a for a, b, _ in alone), timedelta())
        first = alone[0]
        found.append(
            RotationWarning(
                "no_secondary",
                ("no_secondary",),
                f"Only one person is on call for {_hours(total)} before {_shown(end, zone)} "
                f"(no secondary), first {names.get(first[2], 'someone')} from "
                f"{_shown(first[0], zone)}.",
            )
        )
    return found


def _over_a_week(per_layer, first_month, last_month, zone, names) -> list[RotationWarning]:
    """People on call more than a week in a calendar month (time on two layers at once
    counts once)."""
    found = []
    month = first_month
    while month <= last_month:
        m_start = to_utc(datetime.combine(month, time()), zone)
        m_end = to_utc(datetime.combine(_add_months(month, 1), time()), zone)
        per_person: dict[int, list[tuple[datetime, datetime]]] = {}
        for spans in per_layer.values():
            for s in spans:
                a, b = max(s.start, m_start), min(s.end, m_end)
                if a < b:
                    per_person.setdefault(s.user_id, []).append((a, b))
        for user_id, ranges in sorted(per_person.items()):
            total = sum((_wall(a, b, zone) for a, b in _union(ranges)), timedelta())
            if total > MAX_A_MONTH:
                days = total.total_seconds() / 86400
                found.append(
                    RotationWarning(
                        "over_a_week",
                        ("over_a_week", user_id, f"{month:%Y-%m}"),
                        f"{names.get(user_id, 'Someone')} is on call {days:.1f} days in "
                        f"{month:%B %Y}; the rule is at most one week a month.",
                    )
                )
        month = _add_months(month, 1)
    return found


def _union(ranges):
    ranges = sorted(ranges)
    merged = []
    for a, b in ranges:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
