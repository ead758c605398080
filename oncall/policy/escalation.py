"""The ``escalation`` section: escalation policies and their steps (who is paged when).

::

    escalation:
      - name: Payments
        description: ""
        default: false             # the policy of incidents no service or team policy covers
        team: payments             # this team's policy (a team's slug), or null
        service: null              # this service's own policy (a service's slug), or null
        repeat_last: 1             # play the last N steps again ...
        repeat_times: 2            # ... K more times,
        repeat_after: 10m          # ... each round this long after the previous one's end
        steps:                     # in order; the first is the one a "page at once" moves to 0
          - delay: 0s              # after declaration
            unless: acknowledged   # acknowledged, identified, mitigated or resolved
            severities: [SEV-1, SEV-2]   # keys; empty: every severity
            target: layer
            layer: payments-on-call/Primary   # schedule slug / layer name
          - {delay: 5m, unless: acknowledged, severities: [], target: team_manager, team: null}
          - {delay: 15m, unless: resolved, severities: [SEV-1], target: endpoint,
             endpoint: VP Engineering, email: vp-engineering@example.com}

Each target names what it pages by natural key: ``layer`` (schedule slug / layer name, of the
install or of the same file's ``schedules``), ``user`` (username), ``team_lead`` and
``team_manager`` (``team``: a slug, or null for the incident's service's team), ``role`` (an
incident role: ic, tech_lead, comms_lead, sme, exec_sponsor) and ``endpoint`` (a notification
endpoint's name). An endpoint step may carry ``email``: the import then makes (or keeps) an
e-mail endpoint of that name and address, so a file can page a list on an install that has
nothing yet. Chat and webhook endpoints travel by name only: their URLs are credentials and
never leave the install (make them in the admin first).

Steps are replaced as a whole when they differ from the file; escalations already running
keep the plan they started with. History says "policy import", by the importing user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from incidents.models import RoleAssignment
from ircore.models import NotificationEndpoint, Service, Severity, Team
from ircore.policy import Counts, EntryReader, PolicySection, format_duration
from ircore.policy.entries import Unique, changed, deletion_problems, entries, max_length, suggest
from ircore.policy.problems import show
from ircore.policy.registry import ImportContext

from ..models import Escalation, EscalationPolicy, EscalationStep, Layer, Point
from ..models.escalation import MAX_REPEATS, MAX_STEPS
from .fields import username, users_named

POLICY_FIELDS = (
    "name",
    "description",
    "default",
    "team",
    "service",
    "repeat_last",
    "repeat_times",
    "repeat_after",
    "steps",
)
Target = EscalationStep.Target
# The field each target names (lead and manager: a team, or null for the incident's).
TARGET_FIELDS = {
    Target.LAYER: ("layer",),
    Target.USER: ("user",),
    Target.TEAM_LEAD: ("team",),
    Target.TEAM_MANAGER: ("team",),
    Target.ROLE: ("role",),
    Target.ENDPOINT: ("endpoint", "email"),
}
STEP_FIELDS = ("delay", "unless", "severities", "target", "layer", "user", "team", "role")
STEP_FIELDS += ("endpoint", "email")
OWNED = {EscalationPolicy, EscalationStep, EscalationStep.severities.through, Escalation}


# --- export ----------------------------------------------------------------------------------


def _export_step(step: EscalationStep) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "delay": format_duration(step.delay),
        "unless": step.unless,
        "severities": [s.key for s in sorted(step.severities.all(), key=lambda s: s.rank)],
        "target": step.target,
    }
    if step.target == Target.LAYER:
        entry["layer"] = f"{step.layer.schedule.slug}/{step.layer.name}"
    elif step.target == Target.USER:
        entry["user"] = username(step.user)
    elif step.target in (Target.TEAM_LEAD, Target.TEAM_MANAGER):
        entry["team"] = step.team.slug if step.team_id else None
    elif step.target == Target.ROLE:
        entry["role"] = step.role
    else:
        entry["endpoint"] = step.endpoint.name
        if step.endpoint.kind == NotificationEndpoint.Kind.EMAIL:
            entry["email"] = step.endpoint.target
    return entry


def export_escalation() -> list[dict[str, Any]]:
    policies = EscalationPolicy.objects.select_related("team", "service").prefetch_related(
        "steps__severities",
        "steps__layer__schedule",
        "steps__user",
        "steps__team",
        "steps__endpoint",
    )
    return [
        {
            "name": p.name,
            "description": p.description,
            "default": p.is_default,
            "team": p.team.slug if p.team_id else None,
            "service": p.service.slug if p.service_id else None,
            "repeat_last": p.repeat_last,
            "repeat_times": p.repeat_times,
            "repeat_after": format_duration(p.repeat_after),
            "steps": [
                _export_step(s) for s in sorted(p.steps.all(), key=lambda s: (s.position, s.pk))
            ],
        }
        for p in policies.order_by("name")
    ]


# --- validate --------------------------------------------------------------------------------


@dataclass
class StepEntry:
    reader: EntryReader
    values: dict[str, Any]
    severities: list[str]
    refs: dict[str, str]  # the natural keys named: layer, user, team, endpoint
    email: str = ""


@dataclass
class PolicyEntry:
    reader: EntryReader
    values: dict[str, Any]
    refs: dict[str, str]
    steps: list[StepEntry] = field(default_factory=list)


@dataclass
class EscalationPlan:
    entries: list[PolicyEntry]
    delete: list[EscalationPolicy]
    endpoints: dict[str, str]  # e-mail endpoints the file makes or keeps: name -> address


def _read_step(r: EntryReader) -> StepEntry:
    target = r.text("target", required=True)
    if target and target not in Target.values:
        r.problem("target", f"unknown target{suggest(target, Target.values)}")
    delay = r.duration("delay") if r.raw("delay", True) is not None else None
    if delay is None and r.raw("delay") == "":
        r.problem("delay", "is required (0s: at once)")
    unless = r.text("unless") or Point.ACKNOWLEDGED
    if unless not in Point.values:
        r.problem("unless", f"unknown point{suggest(unless, Point.values)}")
    severities = r.text_list("severities", unique=True)
    allowed = TARGET_FIELDS.get(target, ())
    for name in STEP_FIELDS[4:]:
        if name not in allowed and r.raw(name) is not None:
            uses = ", ".join(allowed) or "nothing"
            r.problem(name, f"is not used by target {show(target)} (it uses: {uses})")
    refs: dict[str, str] = {}
    values: dict[str, Any] = {"delay": delay, "unless": unless, "target": target, "role": ""}
    if target in (Target.LAYER, Target.USER, Target.ENDPOINT):
        refs[target] = r.text(target, required=True)
    elif target in (Target.TEAM_LEAD, Target.TEAM_MANAGER):
        refs["team"] = r.text("team")
    elif target == Target.ROLE:
        role = r.text("role", required=True)
        if role and role not in RoleAssignment.Role.values:
            r.problem("role", f"unknown role{suggest(role, RoleAssignment.Role.values)}")
        values["role"] = role
    email = r.text("email") if target == Target.ENDPOINT else ""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            r.problem("email", f"{show(email)} is not an email address")
    return StepEntry(r, values, severities, refs, email)


def _read_policy(ctx: ImportContext, i: int, data: Any) -> PolicyEntry:
    r = EntryReader(ctx, f"escalation[{i}]", data, POLICY_FIELDS, key="name")
    values = {
        "name": r.text("name", required=True, max_length=max_length(EscalationPolicy, "name")),
        "description": r.text("description", max_length=5000),
        "is_default": r.boolean("default"),
        "repeat_last": r.integer("repeat_last", maximum=MAX_STEPS) or 0,
        "repeat_times": r.integer("repeat_times", maximum=MAX_REPEATS) or 0,
        "repeat_after": EscalationPolicy._meta.get_field("repeat_after").default,
    }
    if r.raw("repeat_after") is not None:
        values["repeat_after"] = r.duration("repeat_after") or timedelta(0)
    entry = PolicyEntry(r, values, {"team": r.text("team"), "service": r.text("service")})
    raw = r.raw("steps", True)
    if raw is not None and not isinstance(raw, list):
        r.problem("steps", f"expected a list of steps, got {show(raw)}")
        raw = []
    if len(raw or []) > MAX_STEPS:
        r.problem("steps", f"lists {len(raw)} steps (at most {MAX_STEPS})")
        raw = []
    for j, step in enumerate(raw or []):
        sr = EntryReader(ctx, f"{r.label}.steps[{j}]", step, STEP_FIELDS, key=None)
        entry.steps.append(_read_step(sr))
    if values["repeat_last"] > len(entry.steps):
        r.problem("repeat_last", f"repeats {values['repeat_last']} steps of {len(entry.steps)}")
    return entry


def _layers_known(ctx: ImportContext) -> set[str]:
    """The "schedule/layer" names that will exist after this import."""
    plan = ctx.plans.get("schedules")
    if plan is not None:
        return {f"{e.slug}/{la.values['name']}" for e in plan.entries for la in e.layers}
    pairs = Layer.objects.values_list("schedule__slug", "name")
    return {f"{slug}/{name}" for slug, name in pairs}


def validate_escalation(value: Any, ctx: ImportContext) -> EscalationPlan:
    raw = entries(ctx, "escalation", value)
    found = [_read_policy(ctx, i, data) for i, data in enumerate(raw)]
    names, teams_once, services_once, defaults = Unique(), Unique(), Unique(), Unique()
    for e in found:
        r = e.reader
        names.check(r, "name", e.values["name"] or None)
        if e.values["is_default"]:
            defaults.check(r, "default", True, "the default")
        if e.refs["service"]:
            services_once.check(r, "service", e.refs["service"])
        elif e.refs["team"]:
            teams_once.check(r, "team", e.refs["team"], f"team {show(e.refs['team'])}")

    steps = [s for e in found for s in e.steps]
    team_slugs = {e.refs["team"] for e in found} | {s.refs.get("team") for s in steps}
    teams = {t.slug: t for t in Team.objects.filter(slug__in=team_slugs - {"", None})}
    service_slugs = {e.refs["service"] for e in found} - {""}
    services = {s.slug: s for s in Service.objects.filter(slug__in=service_slugs)}
    people = users_named({s.refs["user"] for s in steps if s.refs.get("user")})
    severity_keys = ctx.severity_keys()
    layers = _layers_known(ctx)
    endpoint_names = {s.refs["endpoint"] for s in steps if s.refs.get("endpoint")}
    endpoints = {e.name: e for e in NotificationEndpoint.objects.filter(name__in=endpoint_names)}
    emails: dict[str, str] = {}

    for e in found:
        for name, known in (("team", teams), ("service", services)):
            if e.refs[name] and e.refs[name] not in known:
                e.reader.problem(name, f"unknown {name} {show(e.refs[name])}")
        for s in e.steps:
            r = s.reader
            for k, key in enumerate(s.severities):
                if key not in severity_keys:
                    r.problem(f"severities[{k}]", f"unknown severity {show(key)}")
            team, user, layer = s.refs.get("team"), s.refs.get("user"), s.refs.get("layer")
            if team and team not in teams:
                r.problem("team", f"unknown team {show(team)}")
            if user and (user not in people or not people[user].is_active):
                known = "not an active user" if user in people else "unknown user"
                r.problem("user", f"{known} {show(user)}")
            if layer and layer not in layers:
                r.problem("layer", f"unknown layer {show(layer)} (schedule-slug/layer-name)")
            name = s.refs.get("endpoint")
            if not name:
                continue
            existing = endpoints.get(name)
            if s.email:
                if existing is not None and existing.kind != NotificationEndpoint.Kind.EMAIL:
                    r.problem("email", f"endpoint {show(name)} is a {existing.kind} endpoint")
                elif emails.setdefault(name, s.email) != s.email:
                    r.problem("email", f"endpoint {show(name)} is given two addresses")
            elif existing is None:
                r.problem("endpoint", f"unknown endpoint {show(name)} (or give its email)")
    for e in found:
        e.refs["team_obj"] = teams.get(e.refs["team"])
        e.refs["service_obj"] = services.get(e.refs["service"])
        _check_policy_rules(e)
        for s in e.steps:
            s.refs["user_obj"] = people.get(s.refs.get("user"))
            s.refs["team_obj"] = teams.get(s.refs.get("team"))

    keep = {e.values["name"] for e in found}
    removed = EscalationPolicy.objects.exclude(name__in=keep).order_by("name")
    return EscalationPlan(found, deletion_problems(ctx, "escalation", removed, OWNED), emails)


def _check_policy_rules(entry: PolicyEntry) -> None:
    """The policy's own rules (``EscalationPolicy.clean``, as the admin asks them), each a
    problem on the field it names."""
    candidate = EscalationPolicy(
        team=entry.refs["team_obj"],
        service=entry.refs["service_obj"],
        **{k: entry.values[k] for k in ("repeat_last", "repeat_times", "repeat_after")},
    )
    try:
        candidate.clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            entry.reader.problem(name, " ".join(messages))


# --- apply -----------------------------------------------------------------------------------


def _endpoints(plan: EscalationPlan, ctx: ImportContext) -> dict[str, NotificationEndpoint]:
    names = {s.refs["endpoint"] for e in plan.entries for s in e.steps if s.refs.get("endpoint")}
    found = {e.name: e for e in NotificationEndpoint.objects.filter(name__in=names)}
    for name, address in plan.endpoints.items():
        endpoint = found.get(name)
        if endpoint is None:
            endpoint = NotificationEndpoint(
                name=name, kind=NotificationEndpoint.Kind.EMAIL, target=address
            )
            ctx.mark(endpoint).save()
            found[name] = endpoint
        elif endpoint.target != address:
            endpoint.target = address
            ctx.mark(endpoint).save()
    return found


def _step_rows(entry: PolicyEntry, endpoints, layers) -> list[tuple[dict, list[str]]]:
    rows = []
    for position, s in enumerate(entry.steps, start=1):
        values = dict(s.values, position=position)
        values["layer"] = layers.get(s.refs.get("layer"))
        values["user"] = s.refs.get("user_obj")
        values["team"] = s.refs.get("team_obj")
        values["endpoint"] = endpoints.get(s.refs.get("endpoint"))
        rows.append((values, s.severities))
    return rows


def _same_steps(policy: EscalationPolicy, rows) -> bool:
    current = sorted(policy.steps.all(), key=lambda s: (s.position, s.pk))
    if len(current) != len(rows):
        return False
    for step, (values, keys) in zip(current, rows, strict=True):
        if changed(step, values) or sorted(x.key for x in step.severities.all()) != sorted(keys):
            return False
    return True


def apply_escalation(plan: EscalationPlan, ctx: ImportContext) -> Counts:
    counts, step_counts = Counts(), Counts()
    for policy in plan.delete:
        for step in policy.steps.all():
            ctx.mark(step).delete()
            step_counts.deleted += 1
        ctx.mark(policy).delete()
        counts.deleted += 1
    endpoints = _endpoints(plan, ctx)
    layers = {
        f"{la.schedule.slug}/{la.name}": la for la in Layer.objects.select_related("schedule")
    }
    severities = {s.key: s for s in Severity.objects.all()}
    existing = {
        p.name: p
        for p in EscalationPolicy.objects.select_for_update().prefetch_related("steps__severities")
    }
    for entry in plan.entries:
        entry.values["team"] = entry.refs["team_obj"]
        entry.values["service"] = entry.refs["service_obj"]
    # A default, team or service moving between policies would collide half way (each is
    # unique): the policies that change one let go of it first, without history (each
    # row's real change is its own save below).
    unique = ("is_default", "team", "service")
    moving = [
        p.pk
        for entry in plan.entries
        if (p := existing.get(entry.values["name"])) is not None
        and changed(p, {k: entry.values[k] for k in unique})
    ]
    EscalationPolicy.objects.filter(pk__in=moving).update(is_default=False, team=None, service=None)
    for entry in plan.entries:
        policy = existing.get(entry.values["name"])
        rows = _step_rows(entry, endpoints, layers)
        if policy is None:
            policy = ctx.mark(EscalationPolicy(**entry.values))
            policy.save()
            counts.created += 1
            same_steps = False
        else:
            fields_changed = changed(policy, entry.values)
            same_steps = _same_steps(policy, rows)
            if fields_changed:
                for name, value in entry.values.items():
                    setattr(policy, name, value)
                ctx.mark(policy).save()
            if fields_changed or not same_steps:
                counts.updated += 1
        if same_steps:
            continue
        for step in policy.steps.all():
            ctx.mark(step).delete()
            step_counts.deleted += 1
        for values, keys in rows:
            step = ctx.mark(EscalationStep(policy=policy, **values))
            step.save()
            step.severities.set([severities[k] for k in keys])
            step_counts.created += 1
    ctx.summary.counts["escalation steps"] = step_counts
    return counts


SECTION = PolicySection(
    "escalation",
    export_escalation,
    validate_escalation,
    apply_escalation,
    order=50,
    # The section replaces its steps, so steps naming a level never block removing it.
    replaces=(EscalationPolicy, EscalationStep, EscalationStep.severities.through),
)
