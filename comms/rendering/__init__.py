"""Message templates, rendered in a sandbox (Jinja2) against a plain context of the incident.

The public parts (the contract the notices and the admin use):

- ``render(subject, body, incident, *, now=None) -> Rendered`` (``.subject``, ``.body``):
  a subject is one line (line breaks become spaces) cut to ``MAX_SUBJECT`` characters with
  "…"; a body over ``MAX_BODY`` characters, or any bound broken, is a ``RenderError``
  (a ``RuleError``: a 400 or a form error, naming ``subject`` or ``body``).
- ``context_for(incident, *, now=None) -> dict``: what templates see.
- ``validate(subject, body)``: raises Django's ``ValidationError`` keyed by field, naming
  each unknown placeholder or syntax error and listing the available placeholders.
- ``PLACEHOLDERS`` (name -> description), ``INTERNAL`` (those not for customers),
  ``TIME_FORMAT``.

Where things are: ``placeholders`` (the documented list and the example context),
``context`` (building it from an incident), ``sandbox`` (the environment and its bounds),
``checks`` (what ``validate`` looks for).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from .checks import available, problems
from .context import context_for, next_update_at
from .placeholders import EXAMPLE, INTERNAL, PLACEHOLDERS, TIME_FORMAT, example
from .sandbox import MAX_BODY, MAX_SOURCE, MAX_SUBJECT, RenderError, bounded, render_text

# Every character some mail or chat client takes for a line break.
_BREAKS = re.compile(r"\s*[\r\n\t\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _one_line(text: str) -> str:
    """A subject as mail and chat take it: no line breaks (a header with one is refused or,
    worse, injected), at most ``MAX_SUBJECT`` characters."""
    text = _BREAKS.sub(" ", text).strip()
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 1] + "…"


def render_context(subject: str, body: str, context: dict[str, Any]) -> Rendered:
    """``subject`` and ``body`` rendered against a context already built (one budget for
    both)."""
    with bounded():
        # A subject's own cap is generous (it is cut after), so a runaway subject still stops.
        rendered_subject = render_text(subject, context, limit=4 * MAX_SUBJECT, field="subject")
        rendered_body = render_text(body, context, limit=MAX_BODY, field="body")
    return Rendered(subject=_one_line(rendered_subject), body=rendered_body.strip("\n"))


def render(subject: str, body: str, incident: Any, *, now: datetime | None = None) -> Rendered:
    """Render a template's subject and body for ``incident`` (see the module docstring)."""
    return render_context(subject, body, context_for(incident, now=now))


def validate(subject: str, body: str) -> None:
    """Raise ``ValidationError({"subject": [...], "body": [...]})`` if either text has an
    unknown placeholder, a syntax error, something the sandbox refuses, or breaks a bound
    with the example values; each field's list ends with the available placeholders."""
    errors: dict[str, list[str]] = {}
    for field, source, limit in (("subject", subject, 4 * MAX_SUBJECT), ("body", body, MAX_BODY)):
        found = problems(source or "", field=field, limit=limit)
        if found:
            errors[field] = [*found, available()]
    if errors:
        raise ValidationError(errors)


__all__ = [
    "EXAMPLE",
    "INTERNAL",
    "MAX_BODY",
    "MAX_SOURCE",
    "MAX_SUBJECT",
    "PLACEHOLDERS",
    "TIME_FORMAT",
    "RenderError",
    "Rendered",
    "context_for",
    "example",
    "next_update_at",
    "render",
    "render_context",
    "validate",
]
