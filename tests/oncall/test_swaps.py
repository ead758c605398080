"""Shift swaps: an offer of one's own shift, taken by a colleague or assigned by a manager,
becomes an override, and both people are notified."""

from datetime import timedelta

import pytest

from ircore.errors import ConflictError, RuleError
from ircore.models import Delivery
from oncall import services
from oncall.models import ShiftSwapRequest
from oncall.selectors import layer_on_call

from .conftest import T0, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def layer(make_layer, crew):
    return make_layer([crew.alice, crew.bob], kind="daily")


def test_only_ones_own_shift_can_be_offered(layer, crew):
    with pytest.raises(RuleError) as caught:
        services.swap_offer(layer=layer, user=crew.bob, start=at(2), end=at(6), now=T0)
    assert caught.value.field == "start"
    assert not ShiftSwapRequest.objects.exists()


def test_taken_offer_becomes_an_override_and_both_hear_of_it(layer, crew):
    offer = services.swap_offer(
        layer=layer, user=crew.alice, start=at(2), end=at(6), note="Dentist", now=T0
    )
    taken = services.swap_take(request=offer, user=crew.carol, now=at(1))
    assert taken.status == "taken" and taken.taken_by == crew.carol and taken.assigned_by is None
    assert taken.override.user == crew.carol and taken.override.start == at(2)
    assert layer_on_call(layer=layer, at=at(3)) == crew.carol
    assert layer_on_call(layer=layer, at=at(7)) == crew.alice
    told = dict(Delivery.objects.values_list("recipient__username", "subject"))
    assert told == {
        "alice": "Your shift on Payments on call · Level 1 is covered",
        "carol": "You cover Alice Test on Payments on call · Level 1",
    }
    with pytest.raises(ConflictError):
        services.swap_take(request=offer, user=crew.dave, now=at(1))


def test_manager_assigns_an_offer(layer, crew):
    offer = services.swap_offer(layer=layer, user=crew.alice, start=at(2), end=at(6), now=T0)
    assigned = services.swap_assign(request=offer, to=crew.dave, by=crew.boss, now=at(1))
    assert assigned.assigned_by == crew.boss and assigned.override.user == crew.dave
    assert assigned.history.first().history_user == crew.boss
    assert "Bea Test assigned it" in Delivery.objects.get(recipient=crew.alice).body


def test_an_offer_overtaken_by_an_override_cannot_be_taken(layer, crew):
    offer = services.swap_offer(layer=layer, user=crew.alice, start=at(2), end=at(6), now=T0)
    services.override_create(
        layer=layer, user=crew.dave, start=at(3), end=at(4), by=crew.boss, now=T0
    )
    with pytest.raises(ConflictError) as caught:
        services.swap_take(request=offer, user=crew.carol, now=at(1))
    assert caught.value.field == "start"
    with pytest.raises(RuleError):
        services.swap_take(request=offer, user=crew.alice, now=at(1))


def test_cancelled_offer_cannot_be_taken(layer, crew):
    offer = services.swap_offer(layer=layer, user=crew.alice, start=at(2), end=at(6), now=T0)
    services.swap_cancel(request=offer, by=crew.alice, now=at(1))
    with pytest.raises(ConflictError):
        services.swap_take(request=offer, user=crew.carol, now=at(1) + timedelta(minutes=1))
