"""The ``templates`` section: the message templates, by name, each checked as the admin
checks it (placeholders, syntax, the sandbox's bounds) before anything is written.

::

    templates:
      - name: Incident declared
        kind: declared          # see Template.Kind
        audience: internal      # internal, customers or executives
        active: true
        subject: "🚨 INCIDENT DECLARED: {{ severity.key }} - {{ title }}"
        body: |
          **Impact Summary**:
          - Affected customers: {{ customers_affected|number or "[#]" }} out of [total]

A template the file no longer lists is removed; the notices drafted from it keep their text
(they hold a copy) and lose only the link.
"""

from __future__ import annotations

from typing import Any

from comms.models import Audience, Template
from comms.rendering.checks import problems as template_problems
from comms.rendering.sandbox import MAX_BODY, MAX_SUBJECT
from ircore.policy import Counts, EntryReader, PolicySection
from ircore.policy.entries import RowsPlan, Unique, apply_rows, entries, max_length
from ircore.policy.problems import show
from ircore.policy.registry import ImportContext

TEMPLATE_FIELDS = ("name", "kind", "audience", "active", "subject", "body")


def export_templates() -> list[dict[str, Any]]:
    """In the order the templates were made: a file imported into a fresh install exports
    in its own order (the seed documents' order of their messages)."""
    return [
        {
            "name": t.name,
            "kind": t.kind,
            "audience": t.audience,
            "active": t.active,
            "subject": t.subject,
            "body": t.body,
        }
        for t in Template.objects.order_by("id")
    ]


def _choice(r: EntryReader, name: str, choices: list[str]) -> str:
    value = r.text(name, required=True)
    if value and value not in choices:
        r.problem(name, f"{show(value)} is not one of {', '.join(choices)}")
    return value


def _body(r: EntryReader) -> str:
    """The body as written, line breaks and all (a YAML block keeps its last one), so a
    file round-trips exactly; empty or blank is refused."""
    if not r.text("body", required=True):
        return ""
    return r.raw("body")


def validate_templates(value: Any, ctx: ImportContext) -> RowsPlan:
    found = []
    names = Unique()
    for i, data in enumerate(entries(ctx, "templates", value)):
        r = EntryReader(ctx, f"templates[{i}]", data, TEMPLATE_FIELDS, key="name")
        name = r.text("name", required=True, max_length=max_length(Template, "name"))
        names.check(r, "name", name or None)
        values = {
            "name": name,
            "kind": _choice(r, "kind", Template.Kind.values),
            "audience": _choice(r, "audience", Audience.values),
            "active": r.boolean("active", default=True),
            "subject": r.text("subject", required=True, max_length=max_length(Template, "subject")),
            "body": _body(r),
        }
        for field, limit in (("subject", 4 * MAX_SUBJECT), ("body", MAX_BODY)):
            if values[field]:
                for problem in template_problems(values[field], field=field, limit=limit):
                    r.problem(field, problem)
        found.append(values)
    listed = [e["name"] for e in found]
    # Nothing refers to a template so that it must stay (notices keep a copy of the text).
    return RowsPlan(found, list(Template.objects.exclude(name__in=listed).order_by("name")))


def apply_templates(plan: RowsPlan, ctx: ImportContext) -> Counts:
    return apply_rows(plan, ctx, Template, "name")


SECTION = PolicySection(
    "templates", export_templates, validate_templates, apply_templates, order=70
)
