"""An incident has at least one affected service: declaring needs one, the last stays."""

import pytest

from incidents import services
from incidents.models import Incident, ReferenceCounter
from ircore.errors import RuleError

from .conftest import T0, at


@pytest.mark.parametrize("given", [[], (), None])
def test_declaring_with_no_service_is_refused_and_creates_nothing(declare, given):
    with pytest.raises(RuleError) as refused:
        declare(services=given)
    assert refused.value.field == "services"
    assert "at least one affected service" in refused.value.message
    assert not Incident.objects.exists()
    assert not ReferenceCounter.objects.filter(day=T0.date()).exists()  # no number used up


def test_the_last_service_cannot_be_removed(declare, catalog, people):
    incident = declare(services=[catalog.payments_api])
    entries = incident.timeline.count()
    with pytest.raises(RuleError) as refused:
        services.affected_service_remove(
            incident=incident, service=catalog.payments_api, user=people.manager, now=at(5)
        )
    assert refused.value.field == "service"
    assert "only affected service" in refused.value.message
    assert list(incident.affected.values_list("service__slug", flat=True)) == ["payments-api"]
    assert incident.timeline.count() == entries


def test_one_of_several_services_can_be_removed_until_one_is_left(declare, catalog, people):
    incident = declare(services=[catalog.payments_api, catalog.webhooks])
    services.affected_service_remove(
        incident=incident, service=catalog.webhooks, user=people.manager, now=at(5)
    )
    assert list(incident.affected.values_list("service__slug", flat=True)) == ["payments-api"]
    with pytest.raises(RuleError):
        services.affected_service_remove(
            incident=incident, service=catalog.payments_api, user=people.manager, now=at(6)
        )


def test_adding_the_right_service_first_lets_the_wrong_one_go(declare, catalog, people):
    incident = declare(services=[catalog.webhooks])
    services.affected_service_set(
        incident=incident,
        service=catalog.payments_api,
        status="major_outage",
        user=people.manager,
        now=at(5),
    )
    services.affected_service_remove(
        incident=incident, service=catalog.webhooks, user=people.manager, now=at(6)
    )
    assert list(incident.affected.values_list("service__slug", "status")) == [
        ("payments-api", "major_outage")
    ]


def test_removing_a_service_not_on_the_incident_names_the_service(declare, catalog, people):
    incident = declare(services=[catalog.payments_api, catalog.webhooks])
    with pytest.raises(RuleError) as refused:
        services.affected_service_remove(
            incident=incident, service=catalog.settlement, user=people.manager, now=at(5)
        )
    assert refused.value.field == "service"
    assert incident.affected.count() == 2
