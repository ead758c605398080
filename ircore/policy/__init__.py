"""The policy file: one readable document (YAML or JSON) holding the whole process.

``export_policy()`` turns the policy rows into a document; ``import_policy(document)``
validates every entry first, then applies the file in one transaction: upsert by natural
key, replace each severity's checklist, delete rows the file no longer lists (refused
while anything still refers to them, unless a severity map moves them: see ``remap``).
A bad file changes nothing and its problems are reported at once (the first
``MAX_PROBLEMS``, each cut to length), each naming the entry, e.g.::

    severities[2] (SEV-3).ack_target: "5 minutes" is not a duration (use e.g. 5m, 4h, 2d)

A section the file leaves out is left alone; a section it lists is authoritative.
Unknown top-level keys are refused so a typo is never silently ignored.

Where things are:

- ``registry``: ``PolicySection``, ``register_section``, the import's shared context.
- ``reader``: reading and writing files, and the bounds both the admin and the command
  share (size, encoding, nesting, alias expansion).
- ``problems``: ``PolicyError`` and how values and problems are shown (bounded, printable).
- ``entries``: ``EntryReader`` and the helpers every section uses.
- ``durations``: "15m", "4h", "2d" <-> ``timedelta``.
- ``importer``: ``export_policy`` and ``import_policy`` over every registered section.
- ``remap``: moving what holds a removed severity level to its new one (``--map``).
- one module per section: ``severities``, ``incident_types``, ``thresholds``.

Adding a section (escalation, comms templates, postmortem deadlines ...) is one new
module plus one registry line. The module defines ``export() -> list``, ``validate(value,
ctx) -> plan`` (reading entries with ``EntryReader``, appending to ``ctx.problems``,
checking severity keys against ``ctx.severity_keys()``) and ``apply(plan, ctx) ->
Counts`` (saving rows marked with ``ctx.mark(row)`` so their history says "policy
import"), and ends with ``SECTION = PolicySection(name, export, validate, apply,
order=...)``. The registry line is ``register_section(module.SECTION)``: below, for a
section of ircore's own; in the app's ``AppConfig.ready()`` for a section of an app
above (oncall, comms, postmortems), which ircore never imports. Then add the section to
every file in ``policies/`` and to that file's test.
"""

from . import incident_types, severities, thresholds
from .durations import (
    DURATION_HINT,
    MAX_DURATION,
    DurationTooLong,
    format_duration,
    parse_duration,
)
from .entries import EntryReader
from .importer import export_policy, import_policy
from .incident_types import TYPE_FIELDS
from .problems import MAX_PROBLEMS, PolicyError, Problems
from .reader import (
    FORMATS,
    MAX_FILE_BYTES,
    MAX_VALUES,
    decode_policy,
    dump_policy_file,
    dumps_policy,
    format_for,
    load_policy_file,
    loads_policy,
    read_limited,
    read_policy,
    too_large,
)
from .registry import (
    CHANGE_REASON,
    VERSION,
    Counts,
    ImportContext,
    ImportSummary,
    PolicySection,
    register_section,
    sections,
)
from .remap import format_severity_map, parse_severity_map
from .severities import DURATION_FIELDS, SEVERITY_FIELDS
from .thresholds import THRESHOLD_FIELDS

# The registry: ircore's own sections, one line each.
register_section(severities.SECTION)
register_section(incident_types.SECTION)
register_section(thresholds.SECTION)

__all__ = [
    "CHANGE_REASON",
    "DURATION_FIELDS",
    "DURATION_HINT",
    "FORMATS",
    "MAX_DURATION",
    "MAX_FILE_BYTES",
    "MAX_PROBLEMS",
    "MAX_VALUES",
    "SEVERITY_FIELDS",
    "THRESHOLD_FIELDS",
    "TYPE_FIELDS",
    "VERSION",
    "Counts",
    "DurationTooLong",
    "EntryReader",
    "ImportContext",
    "ImportSummary",
    "PolicyError",
    "PolicySection",
    "Problems",
    "decode_policy",
    "dump_policy_file",
    "dumps_policy",
    "export_policy",
    "format_duration",
    "format_for",
    "format_severity_map",
    "import_policy",
    "load_policy_file",
    "loads_policy",
    "parse_duration",
    "parse_severity_map",
    "read_limited",
    "read_policy",
    "register_section",
    "sections",
    "too_large",
]
