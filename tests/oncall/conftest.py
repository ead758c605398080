"""Fixtures for the on-call tests: a team, four responders who rotate, a schedule in
Europe/London, and a helper that builds a layer through the services.

Time is explicit: ``T0`` (Monday 3 March 2025, 09:00 in London, which is UTC then) is the
start of every rotation, and services take ``now=``.
"""

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from ircore import roles
from ircore.models import Team
from oncall import services

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
START = date(2025, 3, 3)


def at(hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, days=days)


@pytest.fixture
def crew(make_user, db):
    """Four responders with names, phones and chat handles, and a manager."""

    def person(username, first, group=roles.RESPONDERS):
        user = make_user(username, group, first_name=first, last_name="Test")
        user.profile.phone = f"+4420794600{len(username):02d}"
        user.profile.chat_handle = f"@{username}"
        user.profile.save()
        return user

    return SimpleNamespace(
        alice=person("alice", "Alice"),
        bob=person("bob", "Bob"),
        carol=person("carol", "Carol"),
        dave=person("dave", "Dave"),
        boss=person("boss", "Bea", roles.INCIDENT_MANAGERS),
    )


@pytest.fixture
def team(db):
    return Team.objects.create(name="Payments", slug="payments")


@pytest.fixture
def schedule(team, crew):
    return services.schedule_create(
        team=team, name="Payments on call", time_zone="Europe/London", by=crew.boss
    )


@pytest.fixture
def make_layer(schedule, crew):
    """A layer through ``layer_create`` (rule warnings accepted unless told)."""

    def make(members=None, *, name=None, level=None, target=None, **values):
        target = target or schedule
        values.setdefault("kind", "weekly")
        values.setdefault("start_date", START)
        values.setdefault("handoff_time", time(9))
        level = level if level is not None else target.layers.count() + 1
        saved = services.layer_create(
            schedule=target,
            by=crew.boss,
            name=name or f"Level {level}",
            level=level,
            members=members if members is not None else [crew.alice, crew.bob, crew.carol],
            accept_warnings=values.pop("accept_warnings", True),
            now=values.pop("now", T0 - timedelta(days=1)),
            **values,
        )
        return saved.obj

    return make
