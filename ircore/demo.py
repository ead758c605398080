"""Demo data for a first run: three teams, five services, one person in each role group and
two incidents (one open, one resolved), so a newcomer sees a working tool at once.

Loaded once per database: a marker row records that it was, so a second ``bootstrap``
changes nothing and deleting demo rows never brings them back. The apps above add their own
demo rows through their AppConfig hooks (``ircore.hooks``: ``load_demo``,
``demo_has_own_data``); ircore never imports them.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from . import hooks, roles
from .errors import RuleError
from .models import DemoMarker, Profile, Service, Team

DEMO_MARKER = "demo-data"
# Where "demo data was loaded" is kept: a row of its own model, not the clock's heartbeats.
MARKER_MODEL, MARKER_TIME_FIELD = DemoMarker, "loaded_at"
MANAGERS = roles.INCIDENT_MANAGERS


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    group: str
    time_zone: str
    phone: str
    certified: bool = False


# The cast: an IC-certified manager, a certified and an uncertified responder, support and
# leadership, spread over three time zones.
PEOPLE = (
    Person("maria", "Maria", "Okafor", MANAGERS, "Europe/London", "+442079460101", True),
    Person("raj", "Raj", "Iyer", roles.RESPONDERS, "Asia/Kolkata", "+918040000102", True),
    Person("dana", "Dana", "Whitfield", roles.RESPONDERS, "America/New_York", "+12125550103"),
    Person("sam", "Sam", "Carter", roles.SUPPORT, "Europe/London", "+442079460104"),
    Person("lee", "Lee", "Moreno", roles.LEADERSHIP, "America/New_York", "+12125550105"),
)  # fmt: skip
DEMO_USERNAMES = tuple(p.username for p in PEOPLE)

# (name, slug, manager, lead, members, chat channel)
TEAMS = (
    ("Payments", "payments", "maria", "raj", ("maria", "raj"), "#payments"),
    ("Platform", "platform", "maria", "dana", ("dana",), "#platform"),
    ("Support", "support", "lee", "sam", ("sam",), "#support"),
)

# (name, slug, team, tier, public, public name, description)
SERVICES = (
    ("Payments API", "payments-api", "payments", 1, True, "Payments", "Card and bank payments."),
    ("Settlement", "settlement", "payments", 1, True, "", "Daily payouts to merchants."),
    ("Merchant Dashboard", "merchant-dashboard", "platform", 2, True, "", "Reports, refunds."),
    ("Webhooks", "webhooks", "platform", 2, True, "", "Event delivery to merchant systems."),
    ("Internal Admin", "internal-admin", "platform", 3, False, "", "Back-office tools."),
)


def demo_loaded() -> bool:
    """Whether demo data was ever loaded into this database."""
    return MARKER_MODEL.objects.filter(name=DEMO_MARKER).exists()


def _mark_demo_loaded(now: datetime) -> bool:
    """Write the marker; False if it was there. Inside the loading transaction: a concurrent
    second run waits on the marker's unique name, then finds it."""
    _, created = MARKER_MODEL.objects.get_or_create(
        name=DEMO_MARKER, defaults={MARKER_TIME_FIELD: now}
    )
    return created


def demo_set_passwords(*, password: str) -> int:
    """Give the demo staff the password printed for the admin; returns how many were set."""
    users = list(get_user_model().objects.filter(username__in=DEMO_USERNAMES))
    for user in users:
        user.set_password(password)
        user.save(update_fields=["password"])
    return len(users)


def demo_load(*, password: str, now: datetime | None = None) -> dict[str, int] | None:
    """Create the demo data unless it was loaded before; returns counts, or None if it was.
    Refuses (``RuleError``, nothing written) a database that has data of its own.

    The marker row is written first in the same transaction: a concurrent second run waits on
    its unique name and then finds it, so nothing is ever created twice. Each app's
    ``load_demo`` hook then adds its rows (``ircore.hooks``).
    """
    now = now or timezone.now()
    with transaction.atomic():
        if not _mark_demo_loaded(now):
            return None
        _refuse_existing_data()
        people = _people(password=password, today=timezone.localdate(now))
        teams = _teams(people)
        services = _services(teams)
        counts = {"people": len(people), "teams": len(teams), "services": len(services)}
        counts.update(hooks.load_demo(people=people, services=services, now=now))
    return counts


def _refuse_existing_data() -> None:
    """Demo rows go only into a database with nothing of its own: never reset a real
    person's password or mix invented incidents into an install's history."""
    clash = (
        get_user_model().objects.filter(username__in=DEMO_USERNAMES).exists()
        or Team.objects.filter(slug__in=[t[1] for t in TEAMS]).exists()
        or Service.objects.filter(slug__in=[s[1] for s in SERVICES]).exists()
        or hooks.demo_has_own_data()
    )
    if clash:
        raise RuleError(
            "this database already has people, teams, services or incidents of its own; "
            "demo data is only loaded into a new one.",
            field="demo",
        )


def _people(*, password: str, today: date) -> dict:
    User = get_user_model()
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLE_GROUPS)}
    people = {}
    for p in PEOPLE:
        user, _ = User.objects.get_or_create(
            username=p.username,
            defaults={
                "first_name": p.first_name,
                "last_name": p.last_name,
                "email": f"{p.username}@example.com",
                "is_staff": True,
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        user.groups.add(groups[p.group])
        profile, _ = Profile.objects.get_or_create(user=user)
        profile.phone = p.phone
        profile.chat_handle = f"@{p.username}"
        profile.time_zone = p.time_zone
        if p.certified:
            profile.ic_certified_on = today - timedelta(days=200)
            profile.ic_certification_expires = date(today.year + 1, 12, 31)
        profile.save()
        people[p.username] = user
    return people


def _teams(people: dict) -> dict:
    teams = {}
    for name, slug, manager, lead, members, channel in TEAMS:
        team, _ = Team.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "manager": people[manager],
                "lead": people[lead],
                "chat_channel": channel,
                "email": f"{slug}@example.com",
            },
        )
        team.members.add(*(people[m] for m in members))
        teams[slug] = team
    return teams


def _services(teams: dict) -> dict:
    services = {}
    for name, slug, team, tier, public, public_name, description in SERVICES:
        service, _ = Service.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "team": teams[team],
                "tier": tier,
                "public": public,
                "public_name": public_name,
                "description": description,
            },
        )
        services[slug] = service
    return services
