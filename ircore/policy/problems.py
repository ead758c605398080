"""Problems with a policy file, as people read them: every one names its entry, none is
unbounded. A hostile file (a few bytes of YAML aliases, a megabyte-long key, NULs and lone
surrogates) must give a short, printable list, in the admin and on a terminal alike."""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import RuleError

# At most this many problems are kept and shown; the rest are counted.
MAX_PROBLEMS = 50
# A problem longer than this is cut (a long key or value quoted in it).
MAX_PROBLEM_CHARS = 500
# A value quoted in a problem is cut to about this many characters.
MAX_SHOWN_CHARS = 80

# C0 controls other than tab and newline, DEL, and lone surrogates (text Python can hold
# but no file, terminal or database can encode).
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with unprintable characters written as escapes (``\\x00``, ``\\ud800``)."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def bad_characters(text: str) -> str | None:
    """Why ``text`` cannot be stored (PostgreSQL refuses NUL; a lone surrogate cannot be
    encoded at all), or ``None`` if it can."""
    if "\x00" in text:
        return "null characters are not allowed"
    match = re.search(r"[\ud800-\udfff]", text)
    if match:
        return f"contains a lone surrogate ({_escape(match)}), which is not text"
    return None


def show(value: Any, limit: int = MAX_SHOWN_CHARS) -> str:
    """A value as the file writes it, for messages: JSON-like, printable, and cut after
    about ``limit`` characters without walking the rest (an alias can repeat a big list)."""
    parts: list[str] = []
    budget = [limit]
    _show_into(value, parts, budget, depth=0)
    text = "".join(parts)
    if budget[0] < 0:
        text = text[:limit] + "…"
    return printable(text)


def _show_into(value: Any, parts: list[str], budget: list[int], depth: int) -> None:
    if budget[0] < 0:
        return
    if isinstance(value, dict):
        parts.append("{")
        budget[0] -= 1
        for i, (key, item) in enumerate(value.items()):
            if budget[0] < 0:
                return
            if i:
                parts.append(", ")
            _show_into(key if isinstance(key, str) else str(key), parts, budget, depth + 1)
            parts.append(": ")
            _show_into(item, parts, budget, depth + 1)
        parts.append("}")
    elif isinstance(value, list | tuple):
        parts.append("[")
        budget[0] -= 1
        for i, item in enumerate(value):
            if budget[0] < 0:
                return
            if i:
                parts.append(", ")
            _show_into(item, parts, budget, depth + 1)
        parts.append("]")
    else:
        if isinstance(value, str) and len(value) > budget[0] + 2:
            value = value[: budget[0] + 2]  # cut before quoting: never dump a megabyte
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
        parts.append(text)
        budget[0] -= len(text)


def cut(text: str, limit: int = MAX_PROBLEM_CHARS) -> str:
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Problems(list):
    """The problems found so far: each made printable and cut to length as it is added,
    the first ``MAX_PROBLEMS`` kept, all counted in ``total``. Sections append to it like
    to a list."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__()
        self.total = 0
        for item in items:
            self.append(item)

    def append(self, problem: str) -> None:
        self.total += 1
        if len(self) < MAX_PROBLEMS:
            super().append(cut(str(problem)))

    def extend(self, problems: Any) -> None:
        for problem in problems:
            self.append(problem)


class PolicyError(RuleError):
    """A policy file that cannot be imported. ``problems`` lists the reasons (at most
    ``MAX_PROBLEMS``, each cut to ``MAX_PROBLEM_CHARS``); ``total`` counts them all."""

    def __init__(self, problems: list[str]):
        kept = problems if isinstance(problems, Problems) else Problems(problems)
        self.problems = list(kept)
        self.total = kept.total
        super().__init__("\n".join(self.lines()), field="policy")

    @property
    def more(self) -> int:
        """How many problems were found beyond those listed."""
        return self.total - len(self.problems)

    def lines(self) -> list[str]:
        """The problems, then how many more there are, if any."""
        if not self.more:
            return list(self.problems)
        return [*self.problems, f"... and {self.more:,} more (fix these and try again)"]

    def count_text(self) -> str:
        return f"{self.total:,} problem{'s' if self.total != 1 else ''}"
