"""The ``integrations`` policy section: inbound alert endpoints by name, with their kind,
default service (by slug) and severity (by key), deduplication labels, grouping window,
auto-resolve, heartbeat and ordered routing rules.

Tokens never travel in the file. An integration the file creates has no token (nothing
can post to it) until one is made with "Rotate token" on its admin page; an integration
that exists keeps its token, whatever else the file changes. An integration the file no
longer lists is removed, unless alerts still refer to it (they are the record of what
happened): then the import is refused and says to keep it with ``enabled: false``.

Registered in ``IncidentsConfig.ready()``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils.text import slugify

from ircore.models import Service, Severity
from ircore.policy import Counts, EntryReader, ImportContext, PolicySection, format_duration
from ircore.policy.entries import Unique, changed, deletion_problems, entries, max_length
from ircore.policy.problems import show

from .alerts.models import Integration, RoutingRule

INTEGRATION_FIELDS = (
    "name",
    "kind",
    "enabled",
    "service",
    "severity",
    "dedup_labels",
    "group_window",
    "auto_resolve",
    "heartbeat_every",
    "heartbeat_grace",
    "routing_rules",
)
RULE_FIELDS = ("label", "value", "service", "severity")
DEFAULT_GROUP_WINDOW = Integration._meta.get_field("group_window").default
DEFAULT_HEARTBEAT_GRACE = Integration._meta.get_field("heartbeat_grace").default
# No monitor needs more rules on one endpoint; the bound keeps a file's size reasonable.
MAX_RULES = 200
# An integration created by an import has no token: this "hash" matches no token's sha256
# (those are 64 hex digits), so nothing authenticates until a token is rotated in.
NO_TOKEN_PREFIX = "no-token-"


def no_token_hash() -> str:
    return NO_TOKEN_PREFIX + secrets.token_hex(16)


def has_token(integration: Integration) -> bool:
    return not integration.token_hash.startswith(NO_TOKEN_PREFIX)


def _rules_export(integration: Integration) -> list[dict[str, Any]]:
    return [
        {
            "label": rule.label,
            "value": rule.value,
            "service": rule.service.slug if rule.service else None,
            "severity": rule.severity.key if rule.severity else None,
        }
        for rule in sorted(integration.rules.all(), key=lambda r: (r.position, r.pk))
    ]


def export_integrations() -> list[dict[str, Any]]:
    rows = Integration.objects.select_related("service", "severity").prefetch_related(
        "rules__service", "rules__severity"
    )
    return [
        {
            "name": row.name,
            "kind": row.kind,
            "enabled": row.enabled,
            "service": row.service.slug if row.service else None,
            "severity": row.severity.key if row.severity else None,
            "dedup_labels": list(row.dedup_labels),
            "group_window": format_duration(row.group_window),
            "auto_resolve": row.auto_resolve,
            "heartbeat_every": format_duration(row.heartbeat_every),
            "heartbeat_grace": format_duration(row.heartbeat_grace),
            "routing_rules": _rules_export(row),
        }
        for row in rows.order_by("name")
    ]


@dataclass
class IntegrationEntry:
    values: dict[str, Any]
    service: str | None
    severity: str | None
    # (label, value, service slug, severity key), in order.
    rules: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)


@dataclass
class IntegrationPlan:
    entries: list[IntegrationEntry]
    delete: list[Integration]


def _known(
    r: EntryReader, name: str, value: Any, known: set[str], what: str, hint: str
) -> str | None:
    """A natural key (service slug, severity key) that must exist; ``None`` when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        r.problem(name, f"{show(value)} is not a {what}")
        return None
    value = value.strip()
    if value not in known:
        r.problem(name, f"unknown {what} {show(value)} ({hint})")
        return None
    return value


def _duration(r: EntryReader, name: str, *, default: timedelta | None) -> timedelta | None:
    value = r.duration(name)
    if value is None:
        return default
    return value


def _read_rules(
    r: EntryReader, slugs: set[str], keys: set[str], service_hint: str, severity_hint: str
) -> list[tuple[str, str, str | None, str | None]]:
    raw = r.raw("routing_rules")
    if raw is None:
        return []
    if not isinstance(raw, list):
        r.problem("routing_rules", f"expected a list, got {show(raw)}")
        return []
    if len(raw) > MAX_RULES:
        r.problem("routing_rules", f"lists {len(raw):,} rules (at most {MAX_RULES})")
        return []
    rules = []
    for j, data in enumerate(raw):
        rule = EntryReader(r.ctx, f"{r.label}.routing_rules[{j}]", data, RULE_FIELDS, key=None)
        label = rule.text("label", required=True, max_length=max_length(RoutingRule, "label"))
        value = rule.text("value", required=True, max_length=max_length(RoutingRule, "value"))
        service = _known(rule, "service", rule.raw("service"), slugs, "service", service_hint)
        severity = _known(rule, "severity", rule.raw("severity"), keys, "severity", severity_hint)
        if rule.raw("service") is None and rule.raw("severity") is None:
            rule.problem("service", "a rule routes to a service, a severity or both; it names none")
        rules.append((label, value, service, severity))
    return rules


def validate_integrations(value: Any, ctx: ImportContext) -> IntegrationPlan:
    slugs = set(Service.objects.values_list("slug", flat=True))
    keys = ctx.severity_keys()
    service_hint = f"known: {', '.join(sorted(slugs))}" if slugs else "no services yet"
    severity_hint = f"the file's severities: {', '.join(sorted(keys)) or 'none'}"
    kinds = list(Integration.Kind.values)
    names = Unique()
    found = []
    for i, data in enumerate(entries(ctx, "integrations", value)):
        r = EntryReader(ctx, f"integrations[{i}]", data, INTEGRATION_FIELDS, key="name")
        name = r.text("name", required=True, max_length=max_length(Integration, "name"))
        names.check(r, "name", name or None)
        kind = r.text("kind", required=True)
        if kind and kind not in kinds:
            r.problem("kind", f"{show(kind)} is not a kind (one of {', '.join(kinds)})")
        every = _duration(r, "heartbeat_every", default=None)
        if every is not None and every <= timedelta(0):
            r.problem("heartbeat_every", "must be longer than 0s (or null: no heartbeat)")
        values = {
            "name": name,
            "kind": kind,
            "enabled": r.boolean("enabled", default=True),
            "dedup_labels": r.text_list("dedup_labels", max_length=100, unique=True),
            "group_window": _duration(r, "group_window", default=DEFAULT_GROUP_WINDOW),
            "auto_resolve": r.boolean("auto_resolve"),
            "heartbeat_every": every,
            "heartbeat_grace": _duration(r, "heartbeat_grace", default=DEFAULT_HEARTBEAT_GRACE),
        }
        found.append(
            IntegrationEntry(
                values=values,
                service=_known(r, "service", r.raw("service"), slugs, "service", service_hint),
                severity=_known(r, "severity", r.raw("severity"), keys, "severity", severity_hint),
                rules=_read_rules(r, slugs, keys, service_hint, severity_hint),
            )
        )
    wanted = [e.values["name"] for e in found if e.values["name"]]
    removed = Integration.objects.exclude(name__in=wanted).order_by("name")
    hint = "; keep it in the file with enabled: false to stop it taking alerts"
    delete = deletion_problems(ctx, "integrations", removed, {Integration, RoutingRule}, hint)
    return IntegrationPlan(entries=found, delete=delete)


def _unique_slug(name: str, taken: set[str]) -> str:
    base = slugify(name)[:90] or "integration"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug


def apply_integrations(plan: IntegrationPlan, ctx: ImportContext) -> Counts:
    counts = Counts()
    for row in plan.delete:
        for rule in row.rules.all():
            ctx.mark(rule).delete()
        ctx.mark(row).delete()
        counts.deleted += 1
    services = {s.slug: s for s in Service.objects.all()}
    severities = {s.key: s for s in Severity.objects.all()}
    existing = {
        row.name: row
        for row in Integration.objects.select_for_update().prefetch_related(
            "rules__service", "rules__severity"
        )
    }
    slugs = set(Integration.objects.values_list("slug", flat=True))
    for entry in plan.entries:
        values = {
            **entry.values,
            "service": services.get(entry.service) if entry.service else None,
            "severity": severities.get(entry.severity) if entry.severity else None,
        }
        row = existing.get(values["name"])
        if row is None:
            row = Integration(
                **values,
                slug=_unique_slug(values["name"], slugs),
                token_hash=no_token_hash(),
                token_hint="",
                created_by=ctx.user,
            )
            ctx.mark(row).save()
            _replace_rules(row, entry, services, severities, ctx)
            counts.created += 1
            continue
        fields_changed = changed(row, values)
        if fields_changed:
            for name, value in values.items():
                setattr(row, name, value)
            _heartbeat_due(row)
            ctx.mark(row).save()
        rules_changed = _rule_tuples(row) != entry.rules
        if rules_changed:
            _replace_rules(row, entry, services, severities, ctx)
        if fields_changed or rules_changed:
            counts.updated += 1
    return counts


def _rule_tuples(row: Integration) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (rule["label"], rule["value"], rule["service"], rule["severity"])
        for rule in _rules_export(row)
    ]


def _replace_rules(row, entry, services, severities, ctx: ImportContext) -> None:
    for rule in list(row.rules.all()):
        ctx.mark(rule).delete()
    for position, (label, value, service, severity) in enumerate(entry.rules, start=1):
        rule = RoutingRule(
            integration=row,
            position=position,
            label=label,
            value=value,
            service=services.get(service) if service else None,
            severity=severities.get(severity) if severity else None,
        )
        ctx.mark(rule).save()


def _heartbeat_due(row: Integration) -> None:
    """A heartbeat switched off expects nothing; one changed on an integration that has
    pinged is next due from its last ping. One never pinged starts with its first ping."""
    if row.heartbeat_every is None:
        row.heartbeat_due_at = None
    elif row.last_ping_at is not None and row.heartbeat_due_at is not None:
        row.heartbeat_due_at = row.last_ping_at + row.heartbeat_every + row.heartbeat_grace


SECTION = PolicySection(
    "integrations",
    export_integrations,
    validate_integrations,
    apply_integrations,
    order=60,
)
