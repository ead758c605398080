"""The world the postmortem and action item tests share (``conftest.py`` builds it as the
``world`` fixture; a test module with another world calls ``build_world`` itself).

A small policy (SEV-1 needs a postmortem in 24 h, SEV-2 in 48 h, SEV-3 none; action items
7/14/30/90 days by priority), the Payments team (manager ``boss``) owning the Payments API,
and the fixed cast plus ``ivy``, an IC-certified responder. Time is pinned: ``T0``.
"""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from django.contrib.auth.models import Group

from incidents import services as incidents
from incidents.models import Incident, RoleAssignment
from ircore import roles
from ircore.models import Profile, Service, Severity, Team
from postmortems.models import ActionItemDeadline

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
h, d = timedelta(hours=1), timedelta(days=1)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def build_world(cast, make_user) -> SimpleNamespace:
    sev1 = Severity.objects.create(
        key="SEV-1", rank=1, name="Critical", postmortem_required=True, postmortem_due=24 * h
    )
    sev2 = Severity.objects.create(
        key="SEV-2", rank=2, name="High", postmortem_required=True, postmortem_due=48 * h
    )
    sev3 = Severity.objects.create(key="SEV-3", rank=3, name="Medium", postmortem_required=False)
    for priority, days in (("p1", 7), ("p2", 14), ("p3", 30), ("p4", 90)):
        ActionItemDeadline.objects.create(priority=priority, days=days)
    ivy = make_user("ivy", roles.RESPONDERS, first_name="Ivy")
    Profile.objects.update_or_create(
        user=ivy, defaults={"ic_certified_on": date(2024, 1, 1), "ic_certification_expires": None}
    )
    boss = make_user("boss", roles.INCIDENT_MANAGERS, first_name="Bo")
    payments = Team.objects.create(name="Payments", slug="payments", manager=boss)
    payments.members.add(ivy, cast.responder)
    api = Service.objects.create(name="Payments API", slug="payments-api", team=payments)
    return SimpleNamespace(
        **vars(cast), ivy=ivy, boss=boss, sev1=sev1, sev2=sev2, sev3=sev3, team=payments, api=api
    )


def declare(world, *, severity=None, drill=False, ic=None, now=T0, title="Payments failing"):
    incident = incidents.incident_declare(
        title=title,
        severity=severity or world.sev2,
        services=[world.api],
        is_drill=drill,
        impact_started_at=now - timedelta(minutes=12),
        detected_at=now - timedelta(minutes=2),
        user=world.manager,
        now=now,
    )
    if ic is not None:
        incidents.role_assign(
            incident=incident,
            role=RoleAssignment.Role.INCIDENT_COMMANDER,
            user=ic,
            by=world.manager,
            now=now + timedelta(minutes=1),
        )
    return incident


def resolve(incident, user, now) -> Incident:
    return incidents.incident_set_status(
        incident=incident, status=Incident.Status.RESOLVED, user=user, now=now
    )


def in_group(user, group: str) -> None:
    user.groups.add(Group.objects.get(name=group))
