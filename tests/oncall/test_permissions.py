"""What each role group may do with schedules: managers shape them, responders cover and
swap and subscribe to their own feed, support and leadership read; the verbs say the same."""

import pytest

from oncall.permissions import (
    ASSIGN_SHIFT,
    CREATE_OVERRIDE,
    MANAGE_FEEDS,
    MANAGE_SCHEDULES,
    OFFER_SHIFT,
    OWN_FEED,
    TAKE_SHIFT,
    VIEW_ONCALL,
    VIEW_PHONE,
    may,
)

pytestmark = pytest.mark.django_db

VERBS = (
    VIEW_ONCALL,
    MANAGE_SCHEDULES,
    CREATE_OVERRIDE,
    OFFER_SHIFT,
    TAKE_SHIFT,
    ASSIGN_SHIFT,
    OWN_FEED,
    MANAGE_FEEDS,
    VIEW_PHONE,
)
EXPECTED = {
    "manager": set(VERBS),
    "responder": {VIEW_ONCALL, CREATE_OVERRIDE, OFFER_SHIFT, TAKE_SHIFT, OWN_FEED, VIEW_PHONE},
    "support": {VIEW_ONCALL},
    "leader": {VIEW_ONCALL, VIEW_PHONE},
    "outsider": set(),
}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_each_persona_may_exactly_its_verbs(cast, persona):
    user = getattr(cast, persona)
    assert {verb for verb in VERBS if may(user, verb)} == EXPECTED[persona]


def test_support_and_leadership_change_nothing(cast):
    for user in (cast.support, cast.leader):
        assert user.has_perm("oncall.view_schedule")
        assert not any(
            user.has_perm(f"oncall.{action}_{model}")
            for action in ("add", "change", "delete")
            for model in ("schedule", "layer", "layerroster", "skip", "override", "feedtoken")
        )
