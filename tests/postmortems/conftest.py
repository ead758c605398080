"""The fixtures most postmortem and action item tests share: the world of
``postmortem_world`` and, in it, a SEV-2 postmortem opened by itself. A module that needs
another world or postmortem defines its own fixture of the same name."""

import pytest

from postmortems.models import Postmortem
from postmortems.services.postmortems import postmortems_open_missed

from .postmortem_world import at, build_world, declare, resolve


@pytest.fixture
def world(cast, make_user):
    return build_world(cast, make_user)


@pytest.fixture
def pm(world):
    """A SEV-2 postmortem owned by Ivy: resolved at T0+2h, opened then, due T0+50h."""
    incident = declare(world, ic=world.ivy)
    resolve(incident, world.manager, at(2))
    postmortems_open_missed(now=at(2))
    return Postmortem.objects.get(incident=incident)
