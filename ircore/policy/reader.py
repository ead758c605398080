"""Policy files: reading and writing them, with the bounds every reader shares.

The admin's upload and ``manage.py policy import`` read through here, so both refuse the
same things the same way: a file over ``MAX_FILE_BYTES``, text that is not UTF-8, text
that is not YAML or JSON, a number too long to read, nesting too deep, and a document
whose aliases expand past ``MAX_VALUES``. Each is a ``PolicyError`` naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import yaml

from .problems import PolicyError, cut

# A policy of a few dozen levels, types and thresholds is a few kilobytes; a megabyte is
# generous and keeps parsing (pure-Python YAML) to about a second.
MAX_FILE_BYTES = 1024 * 1024
# A policy has hundreds of values; YAML aliases can make a few bytes expand to billions,
# which validation would then walk and quote. Refuse anything past this many.
MAX_VALUES = 100_000

FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}

# libyaml reads a megabyte in well under a second where pure Python takes ten; the same
# safe constructor either way (plain types only). It also refuses nesting past 1,000.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


def too_large(size: int, *, at_least: bool = False) -> str:
    """The one wording of the size cap, for the admin's form and the command alike."""
    more = "more than " if at_least else ""
    return (
        f"The file is {more}{size:,} bytes; a policy file may be at most "
        f"{megabytes(MAX_FILE_BYTES)} ({MAX_FILE_BYTES:,} bytes)."
    )


def not_utf8(name: str, exc: UnicodeDecodeError) -> str:
    return (
        f"{name} is not UTF-8 text (byte {exc.start:,} is {exc.object[exc.start]:#04x}); "
        "a policy file is YAML or JSON."
    )


def format_for(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise PolicyError([f"{path}: unknown file type {suffix!r} (use .yaml, .yml or .json)"])
    return FORMATS[suffix]


def decode_policy(data: bytes, *, name: str) -> str:
    """The file's text (a UTF-8 byte order mark is allowed), or ``PolicyError``."""
    if len(data) > MAX_FILE_BYTES:
        raise PolicyError([f"{name}: {too_large(len(data))}"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError([not_utf8(name, exc)]) from None


def read_limited(stream: IO[bytes], *, name: str) -> bytes:
    """At most ``MAX_FILE_BYTES`` from ``stream`` (stdin has no size to check first)."""
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise PolicyError([f"{name}: {too_large(MAX_FILE_BYTES, at_least=True)}"])
    return data


def loads_policy(text: str, fmt: str = "yaml", *, name: str = "policy") -> Any:
    """The document in ``text``; ``PolicyError`` if it cannot be read within the bounds."""
    if len(text) > MAX_FILE_BYTES:
        raise PolicyError([f"{name}: {too_large(len(text.encode('utf-8', 'replace')))}"])
    try:
        document = json.loads(text) if fmt == "json" else yaml.load(text, Loader=_YAML_LOADER)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            [f"{name}: not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"]
        ) from exc
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(exc):
            raise PolicyError([f"{name}: nested too deeply"]) from None
        raise PolicyError([f"{name}: not valid YAML: {cut(str(exc))}"]) from exc
    except RecursionError:
        raise PolicyError([f"{name}: nested too deeply"]) from None
    except ValueError as exc:
        # Python refuses to turn more than 4,300 digits into an int (CVE-2020-10735).
        raise PolicyError(
            [f"{name}: not valid {_format_name(fmt)}: a number is too long ({cut(str(exc), 80)})"]
        ) from None
    if _exceeds_values(document, MAX_VALUES):
        raise PolicyError([f"{name}: expands to too many values (YAML aliases?)"])
    return document


def _format_name(fmt: str) -> str:
    return "JSON" if fmt == "json" else "YAML"


def _exceeds_values(document: Any, limit: int) -> bool:
    """Whether the document holds more than ``limit`` values, counting every alias again."""
    stack, seen = [document], 0
    while stack:
        value = stack.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def read_policy(data: bytes, fmt: str, *, name: str) -> Any:
    """Bytes of a policy file (an upload, stdin) -> the document."""
    return loads_policy(decode_policy(data, name=name), fmt, name=name)


def load_policy_file(path: str | Path, fmt: str | None = None) -> Any:
    """The document in the file at ``path``; the format follows the extension unless
    ``fmt`` is given."""
    fmt = fmt or format_for(path)
    try:
        with open(path, "rb") as src:
            data = read_limited(src, name=str(path))
    except OSError as exc:
        raise PolicyError([f"{path}: cannot read: {exc.strerror}"]) from exc
    return read_policy(data, fmt, name=str(path))


# --- Writing ---


class _Dumper(yaml.SafeDumper):
    """Block style, list items indented under their key, multi-line text as ``|``."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)

YAML_HEADER = (
    "# Incident response policy. Durations: 90s, 15m, 4h, 2d, 1h30m; null means none.\n"
    "# Apply with: python manage.py policy import FILE [--dry-run] [--map OLD=NEW,...]\n"
)


def dumps_policy(document: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)
    return YAML_HEADER + body


def dump_policy_file(document: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(dumps_policy(document, format_for(path)), encoding="utf-8")
