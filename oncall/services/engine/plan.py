"""Which policy applies, the plan snapshot an escalation keeps, and the occurrences (step,
round, due offset) a plan gives at a severity.

A plan is plain JSON, so edits to a policy never change an escalation in flight::

    {"policy": "Payments", "repeat_last": 1, "repeat_times": 2, "repeat_after": 600,
     "steps": [{"position": 1, "delay": 0, "unless": "acknowledged", "severities": [1],
                "target": "layer", "layer": 3, "user": None, "team": None, "role": "",
                "endpoint": None, "label": "On-call of Payments on call · Primary"}, ...]}

Positions are renumbered 1..n in the policy's order. Round 0 of each step is due ``delay``
after declaration. Repeats: the last ``repeat_last`` steps are played ``repeat_times`` more
times; round k of a repeated step is due at ``delay + k * (span + repeat_after)``, where
``span`` is the last step's delay minus the first repeated step's delay (each round starts
``repeat_after`` after the previous round's last step). A severity with
``page_immediately`` moves round 0 of the first step that applies to offset 0.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.models import Incident, IncidentService
from ircore.models import Severity

from ...models import Escalation, EscalationPolicy, EscalationStep


@dataclass(frozen=True)
class Occurrence:
    step: dict
    repeat: int
    offset: timedelta

    @property
    def key(self) -> str:
        return f"{self.step['position']}:{self.repeat}"

    @property
    def position(self) -> int:
        return self.step["position"]


def policy_for(incident: Incident) -> EscalationPolicy | None:
    """The incident's first affected service's policy, else that service's team's policy,
    else the default; None when there is none at all. Three queries at most."""
    first = (
        IncidentService.objects.filter(incident=incident)
        .select_related("service")
        .order_by("id")
        .first()
    )
    if first is not None:
        service = first.service
        policy = EscalationPolicy.objects.filter(service=service).first()
        if policy is None and service.team_id:
            policy = EscalationPolicy.objects.filter(
                team_id=service.team_id, service__isnull=True
            ).first()
        if policy is not None:
            return policy
    return EscalationPolicy.objects.filter(is_default=True).first()


def step_label(step: EscalationStep) -> str:
    """What a step pages, in words, for the timeline and the page record."""
    target = step.target
    T = EscalationStep.Target
    if target == T.LAYER:
        return f"On-call of {step.layer}"
    if target == T.USER:
        return step.user.get_full_name() or step.user.get_username()
    if target in (T.TEAM_LEAD, T.TEAM_MANAGER):
        who = "Lead" if target == T.TEAM_LEAD else "Manager"
        return f"{who} of {step.team.name if step.team_id else 'the service team'}"
    if target == T.ROLE:
        return f"The incident's {step.get_role_display()}"
    return f"Endpoint {step.endpoint.name}"


def snapshot(policy: EscalationPolicy | None) -> dict:
    """The plan of ``policy`` as it is now (see the module docstring)."""
    if policy is None:
        return {"policy": None, "steps": [], "repeat_last": 0, "repeat_times": 0}
    steps = (
        policy.steps.select_related("layer__schedule", "user", "team", "endpoint")
        .prefetch_related("severities")
        .order_by("position", "id")
    )
    return {
        "policy": policy.name,
        "repeat_last": policy.repeat_last,
        "repeat_times": policy.repeat_times,
        "repeat_after": policy.repeat_after.total_seconds(),
        "steps": [
            {
                "position": n,
                "delay": step.delay.total_seconds(),
                "unless": step.unless,
                "severities": sorted(s.pk for s in step.severities.all()),
                "target": step.target,
                "layer": step.layer_id,
                "user": step.user_id,
                "team": step.team_id,
                "role": step.role,
                "endpoint": step.endpoint_id,
                "label": step_label(step),
            }
            for n, step in enumerate(steps, start=1)
        ],
    }


def occurrences(plan: dict, severity: Severity) -> list[Occurrence]:
    """Every (step, round) the plan pages at ``severity``, in due order."""
    steps = [
        s for s in plan.get("steps", ()) if not s["severities"] or severity.pk in s["severities"]
    ]
    if not steps:
        return []
    found = [Occurrence(s, 0, timedelta(seconds=s["delay"])) for s in steps]
    if severity.page_immediately:
        found[0] = Occurrence(steps[0], 0, timedelta(0))
    last_n = min(plan.get("repeat_last") or 0, len(steps))
    times = plan.get("repeat_times") or 0
    if last_n and times:
        repeated = steps[-last_n:]
        span = timedelta(seconds=repeated[-1]["delay"] - repeated[0]["delay"])
        cycle = span + timedelta(seconds=plan.get("repeat_after") or 0)
        for k in range(1, times + 1):
            found.extend(
                Occurrence(s, k, timedelta(seconds=s["delay"]) + k * cycle) for s in repeated
            )
    found.sort(key=lambda o: (o.offset, o.repeat, o.position))
    return found


def pending(escalation: Escalation, severity: Severity) -> list[Occurrence]:
    """The occurrences at ``severity`` not handled yet."""
    done = set(escalation.done)
    return [o for o in occurrences(escalation.plan, severity) if o.key not in done]


def next_due(escalation: Escalation, severity: Severity) -> datetime | None:
    left = pending(escalation, severity)
    return escalation.started_at + left[0].offset if left else None
