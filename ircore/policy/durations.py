"""Durations as the policy file writes them: "90s", "15m", "4h", "2d", "1h30m", "1w";
null (or empty) means "no target"."""

from __future__ import annotations

import re
from datetime import timedelta

from .problems import show

_DURATION_RE = re.compile(
    r"^(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$"
)
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
DURATION_HINT = "use e.g. 5m, 4h, 2d"
# No incident target is longer; beyond it timedelta and SQLite's integers overflow.
MAX_DURATION = timedelta(days=366)


class DurationTooLong(ValueError):
    pass


def parse_duration(value: str | None) -> timedelta | None:
    """``"1h30m"`` -> ``timedelta(hours=1, minutes=30)``; ``None``/``""`` -> ``None``.

    Raises ``ValueError`` for anything else (numbers included: "300" could mean
    seconds or minutes, so a unit is required)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} is not a duration ({DURATION_HINT})")
    text = value.strip().lower().replace(" ", "")
    if not text:
        return None
    # The longest valid duration is a few dozen characters; do not run a regex on more.
    match = _DURATION_RE.match(text) if len(text) <= 64 else None
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"{show(value)} is not a duration ({DURATION_HINT})")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for unit, n in match.groupdict().items() if n)
    if seconds > MAX_DURATION.total_seconds():
        raise DurationTooLong(f"{show(value)} is longer than a year, the longest target allowed")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta | None) -> str | None:
    """The inverse of ``parse_duration``. Hours up to three days ("24h", "48h" read as the
    seed documents say them), whole days beyond ("5d", "7d")."""
    if value is None:
        return None
    total = int(value.total_seconds())
    if total < 0 or value != timedelta(seconds=total):
        raise ValueError(f"{value!r} cannot be written as a policy duration")
    if total == 0:
        return "0s"
    parts = []
    if total >= 3 * 86400:
        days, total = divmod(total, 86400)
        parts.append(f"{days}d")
    hours, total = divmod(total, 3600)
    minutes, seconds = divmod(total, 60)
    for amount, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")):
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)
