"""The periods a report covers: a calendar month or quarter, and where it begins and ends.

**Time zone** (the one place it is decided): months and quarters begin at midnight on their
first day in ``settings.TIME_ZONE`` (UTC unless the install sets it), so that "March" means
the March the organisation lives in. Every instant is compared in UTC in the database; only
the boundaries are computed in that zone. A period is half-open: ``start <= t < end``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

# The calendar the reports can name: the zone maths needs a day of margin either side.
FIRST_YEAR, LAST_YEAR = 1971, 9998
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)


def report_zone() -> ZoneInfo:
    """The zone month boundaries are drawn in (``settings.TIME_ZONE``)."""
    return ZoneInfo(settings.TIME_ZONE)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=report_zone())


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """``months`` calendar months from ``first`` (the first day of a month)."""

    first: date
    months: int = 1

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        return _midnight(self.after)

    @property
    def after(self) -> date:
        """The first day after the period."""
        return _add_months(self.first, self.months)

    @property
    def last_day(self) -> date:
        return self.after - timedelta(days=1)

    @property
    def previous(self) -> Period:
        return Period(_add_months(self.first, -self.months), self.months)

    @property
    def next(self) -> Period:
        return Period(self.after, self.months)

    @property
    def is_quarter(self) -> bool:
        return self.months == 3

    @property
    def key(self) -> str:
        """``2025-03`` for a month, ``2025-Q1`` for a quarter (what the URLs take)."""
        if self.is_quarter:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        return f"{self.first:%Y-%m}"

    @property
    def label(self) -> str:
        if self.is_quarter:
            return f"Q{(self.first.month - 1) // 3 + 1} {self.first.year}"
        return f"{self.first:%B %Y}"

    def month_periods(self) -> list[Period]:
        return [Period(_add_months(self.first, n)) for n in range(self.months)]

    def as_of(self, now: datetime | None = None) -> date:
        """The day "overdue" is counted at: the day after the period, or today (in the
        report zone) while the period is still running."""
        today = timezone.localtime(now or timezone.now(), report_zone()).date()
        return min(self.after, today)

    def is_over(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.end


def month(year: int, month_number: int) -> Period:
    return Period(date(year, month_number, 1))


def quarter(year: int, number: int) -> Period:
    return Period(date(year, 3 * (number - 1) + 1, 1), 3)


def month_containing(when: datetime) -> Period:
    local = timezone.localtime(when, report_zone()).date()
    return month(local.year, local.month)


def quarter_containing(when: datetime) -> Period:
    local = timezone.localtime(when, report_zone()).date()
    return quarter(local.year, (local.month - 1) // 3 + 1)


def _year(text: str, field: str) -> int:
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError({field: f"Choose a year from {FIRST_YEAR} to {LAST_YEAR}."})
    return year


def parse_month(value: str | None, *, field: str = "month") -> Period:
    """``YYYY-MM`` as a month, or a ``ValidationError`` naming ``field``."""
    found = MONTH_RE.match((value or "").strip())
    if not found:
        raise ValidationError({field: "Give the month as YYYY-MM, for example 2025-03."})
    number = int(found.group(2))
    if not 1 <= number <= 12:
        raise ValidationError({field: "The month must be from 01 to 12."})
    return month(_year(found.group(1), field), number)


def parse_quarter(value: str | None, *, field: str = "quarter") -> Period:
    """``YYYY-Qn`` as a quarter, or a ``ValidationError`` naming ``field``."""
    found = QUARTER_RE.match((value or "").strip())
    if not found:
        raise ValidationError({field: "Give the quarter as YYYY-Qn, for example 2025-Q1."})
    return quarter(_year(found.group(1), field), int(found.group(2)))


ZONE_NOTE = (
    "Months begin at midnight on the 1st in {zone}; an incident belongs to the month it was "
    "declared in."
)


def zone_note() -> str:
    return ZONE_NOTE.format(zone=settings.TIME_ZONE)
