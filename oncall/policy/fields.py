"""Readers the on-call policy sections share: dates, times of day, weekdays and people, each
recording a problem that names the entry instead of raising (``ircore.policy.EntryReader``)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from django.contrib.auth import get_user_model

from ircore.policy import EntryReader
from ircore.policy.problems import show

_TIME_RE = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})$")


def read_date(r: EntryReader, name: str, *, required: bool = False) -> date | None:
    """A date written ``2026-11-23`` (YAML reads it as a date; JSON as text)."""
    value = r.raw(name, required)
    if value is None:
        return None
    if isinstance(value, datetime):
        r.problem(name, f"{show(str(value))} is a date and time; give the date only")
        return None
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str) and len(value) <= 10:
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    else:
        parsed = None
    if parsed is None:
        r.problem(name, f"{show(value)} is not a date (use e.g. 2026-11-23)")
        return None
    if not 2000 <= parsed.year < 2200:
        r.problem(name, f"{parsed:%Y-%m-%d} is not between 2000 and 2199")
        return None
    return parsed


def read_time(r: EntryReader, name: str, *, required: bool = False) -> time | None:
    """A time of day written ``"09:00"``. YAML 1.1 reads an unquoted 09:00 as the number
    540 (base 60), so a number is refused with the advice to quote it."""
    value = r.raw(name, required)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        r.problem(name, f'{show(value)} is not a time of day (write it in quotes, e.g. "09:00")')
        return None
    match = _TIME_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None or int(match["h"]) > 23 or int(match["m"]) > 59:
        r.problem(name, f'{show(value)} is not a time of day (use e.g. "09:00")')
        return None
    return time(int(match["h"]), int(match["m"]))


def format_time(value: time | None) -> str | None:
    return None if value is None else f"{value:%H:%M}"


def read_weekdays(r: EntryReader, name: str) -> str:
    """ISO weekdays as a list (``[1, 2, 3, 4, 5]``) or digits (``"12345"``); ``""`` for
    every day."""
    value = r.raw(name)
    if value is None or value in ("", []):
        return ""
    items = list(value) if isinstance(value, str | list) else None
    digits = set()
    for item in items or [None]:
        text = str(item) if isinstance(item, int | str) and not isinstance(item, bool) else ""
        if text not in {"1", "2", "3", "4", "5", "6", "7"}:
            r.problem(name, f"{show(value)} is not a list of ISO weekdays (1 Monday ... 7 Sunday)")
            return ""
        digits.add(text)
    return "".join(sorted(digits))


def format_weekdays(value: str) -> list[int]:
    return [int(d) for d in value]


def users_named(names: set[str]) -> dict[str, Any]:
    """The install's users among ``names``, by username (one query)."""
    User = get_user_model()
    field = User.USERNAME_FIELD
    if not names:
        return {}
    return {getattr(u, field): u for u in User.objects.filter(**{f"{field}__in": names})}


def username(user: Any) -> str:
    return user.get_username()
