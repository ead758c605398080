"""Who a step pages now: the current on-call of a layer, a person, a team's lead or manager,
the holder of an incident role, or an endpoint. A drill pages only its participants (the
people holding a role on it, and whoever declared it) and never an endpoint.

When nobody can be paged, ``Targets.reason`` says why, for the timeline: never silent.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model

from incidents.models import Incident, IncidentService, RoleAssignment
from ircore.models import NotificationEndpoint, Team

from ...models import EscalationStep, Layer
from ...selectors import layer_on_call

User = get_user_model()
T = EscalationStep.Target


@dataclass
class Targets:
    people: list = field(default_factory=list)
    endpoints: list = field(default_factory=list)
    reason: str = ""

    def __bool__(self) -> bool:
        return bool(self.people or self.endpoints)


def _service_team(incident: Incident) -> Team | None:
    first = (
        IncidentService.objects.filter(incident=incident)
        .select_related("service__team__lead", "service__team__manager")
        .order_by("id")
        .first()
    )
    return first.service.team if first and first.service.team_id else None


def _team(step: dict, incident: Incident) -> Team | None:
    if step["team"]:
        return Team.objects.select_related("lead", "manager").filter(pk=step["team"]).first()
    return _service_team(incident)


def _resolve(step: dict, incident: Incident, now: datetime) -> Targets:
    target, label = step["target"], step["label"]
    if target == T.LAYER:
        layer = Layer.objects.select_related("schedule").filter(pk=step["layer"]).first()
        if layer is None:
            return Targets(reason=f"the layer of “{label}” no longer exists")
        person = layer_on_call(layer=layer, at=now)
        if person is None:
            return Targets(reason=f"nobody is on call on {layer} now")
        if not person.is_active:  # left, the rotation not updated yet: they cannot answer
            name = person.get_full_name() or person.get_username()
            return Targets(reason=f"{name}, on call on {layer} now, is no longer an active user")
        return Targets(people=[person])
    if target == T.USER:
        person = User.objects.filter(pk=step["user"]).first()
        if person is None or not person.is_active:
            return Targets(reason=f"{label} is no longer an active user")
        return Targets(people=[person])
    if target in (T.TEAM_LEAD, T.TEAM_MANAGER):
        team = _team(step, incident)
        if team is None:
            return Targets(reason="the incident's service has no team")
        person = team.lead if target == T.TEAM_LEAD else team.manager
        what = "lead" if target == T.TEAM_LEAD else "manager"
        if person is None or not person.is_active:
            return Targets(reason=f"team {team.name} has no {what}")
        return Targets(people=[person])
    if target == T.ROLE:
        holders = [
            a.user
            for a in RoleAssignment.objects.filter(
                incident=incident, role=step["role"], relieved_at__isnull=True
            )
            .select_related("user")
            .order_by("assigned_at", "id")
            if a.user.is_active
        ]
        if not holders:
            role = RoleAssignment.Role(step["role"]).label
            return Targets(reason=f"nobody holds the {role} role")
        return Targets(people=holders)
    endpoint = NotificationEndpoint.objects.filter(pk=step["endpoint"]).first()
    if endpoint is None:
        return Targets(reason=f"the endpoint of “{label}” no longer exists")
    return Targets(endpoints=[endpoint])


def drill_participants(incident: Incident) -> set[int]:
    """The people a drill may page: current role holders, and the declarer."""
    ids = set(
        RoleAssignment.objects.filter(incident=incident, relieved_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    if incident.created_by_id:
        ids.add(incident.created_by_id)
    return ids


def resolve(step: dict, incident: Incident, now: datetime) -> Targets:
    """Who ``step`` pages about ``incident`` at ``now`` (see the module docstring)."""
    found = _resolve(step, incident, now)
    if not incident.is_drill or not found:
        return found
    allowed = drill_participants(incident)
    people = [p for p in found.people if p.pk in allowed]
    if people:
        return Targets(people=people)
    if found.endpoints:
        return Targets(reason="a drill never pages an endpoint")
    names = ", ".join(p.get_full_name() or p.get_username() for p in found.people)
    return Targets(reason=f"a drill pages only its participants, and {names} is not one")
