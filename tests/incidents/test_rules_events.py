"""The newer announcements (affected service, role assigned/relieved, impact), each sent once
after commit with its documented keyword arguments, and never for a rolled-back change."""

from decimal import Decimal

import pytest
from django.db import transaction

from incidents import services
from incidents.models import Incident, IncidentService, RoleAssignment

from .conftest import MORE_SIGNALS, at


def newer(log):
    return [(name, kwargs) for name, kwargs in log if name in MORE_SIGNALS]


@pytest.fixture
def incident(declare, catalog):
    return declare(services=[catalog.payments_api])


def test_service_added_changed_and_removed_are_announced(
    incident, catalog, people, events_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.affected_service_set(
            incident=incident,
            service=catalog.webhooks,
            status="degraded",
            user=people.responder,
            now=at(5),
        )
    assert newer(events_log) == [
        (
            "affected_service_changed",
            {
                "incident": incident,
                "user": people.responder,
                "service": catalog.webhooks,
                "old_status": None,
                "new_status": IncidentService.Status.DEGRADED,
                "action": "added",
            },
        )
    ]
    events_log.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.affected_service_set(
            incident=incident,
            service=catalog.webhooks,
            status="major_outage",
            user=people.manager,
            now=at(6),
        )
    ((name, kwargs),) = newer(events_log)
    assert (name, kwargs["old_status"], kwargs["new_status"], kwargs["action"]) == (
        "affected_service_changed",
        "degraded",
        "major_outage",
        "changed",
    )
    assert kwargs["user"] == people.manager
    events_log.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.affected_service_remove(
            incident=incident, service=catalog.webhooks, user=people.manager, now=at(7)
        )
    ((name, kwargs),) = newer(events_log)
    assert (kwargs["service"], kwargs["old_status"], kwargs["new_status"], kwargs["action"]) == (
        catalog.webhooks,
        "major_outage",
        None,
        "removed",
    )


def test_setting_the_same_service_status_again_announces_nothing(
    incident, catalog, people, events_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.affected_service_set(
            incident=incident,
            service=catalog.payments_api,
            status="degraded",  # what it was declared with
            user=people.responder,
            now=at(5),
        )
    assert newer(events_log) == []


def test_assignment_hand_over_and_stepping_down_are_announced(
    incident, people, events_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.role_assign(
            incident=incident, role="ic", user=people.certified, by=people.manager, now=at(5)
        )
    assert newer(events_log) == [
        (
            "role_assigned",
            {"incident": incident, "user": people.manager, "assignment": first, "previous": None},
        )
    ]
    events_log.clear()

    with django_capture_on_commit_callbacks(execute=True):
        second = services.role_assign(
            incident=incident, role="ic", user=people.certified_too, by=people.manager, now=at(9)
        )
    # The hand-over: the holder's hold ends first, then the successor's begins.
    assert newer(events_log) == [
        (
            "role_relieved",
            {
                "incident": incident,
                "user": people.manager,
                "assignment": first,
                "successor": second,
            },
        ),
        (
            "role_assigned",
            {"incident": incident, "user": people.manager, "assignment": second, "previous": first},
        ),
    ]
    assert newer(events_log)[0][1]["assignment"].relieved_at == at(9)
    events_log.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.role_relieve(assignment=second, by=people.certified_too, now=at(20))
    ((name, kwargs),) = newer(events_log)
    assert name == "role_relieved"
    assert (kwargs["assignment"], kwargs["successor"], kwargs["user"]) == (
        second,
        None,
        people.certified_too,
    )
    assert kwargs["assignment"].relieved_at == at(20)


def test_impact_changes_are_announced_with_old_and_new_figures(
    incident, people, events_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_update(
            incident=incident,
            user=people.responder,
            data={"financial_impact": "2500", "customers_affected": 40, "title": "Card errors"},
            now=at(5),
        )
    assert newer(events_log) == [
        (
            "impact_changed",
            {
                "incident": incident,
                "user": people.responder,
                # The figures only: the title is a detail, not impact.
                "changes": {
                    "financial_impact": (None, Decimal("2500.00")),
                    "customers_affected": (None, 40),
                },
            },
        )
    ]
    events_log.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_update(
            incident=incident, user=people.responder, data={"title": "Card errors"}, now=at(6)
        )
        services.incident_update(
            incident=incident, user=people.responder, data={"customers_affected": 40}, now=at(7)
        )
    assert newer(events_log) == []  # a detail, and a figure that did not change


ROLLED_BACK = {
    "affected_service_changed": lambda i, c, p: services.affected_service_set(
        incident=i, service=c.webhooks, status="degraded", user=p.manager, now=at(5)
    ),
    "role_assigned": lambda i, c, p: services.role_assign(
        incident=i, role="ic", user=p.certified, by=p.manager, now=at(5)
    ),
    "impact_changed": lambda i, c, p: services.incident_update(
        incident=i, user=p.manager, data={"customers_affected": 3}, now=at(5)
    ),
}


class Abort(Exception):
    pass


@pytest.mark.parametrize("signal", ROLLED_BACK)
def test_nothing_is_announced_when_the_transaction_rolls_back(
    incident, catalog, people, events_log, django_capture_on_commit_callbacks, signal
):
    # e.g. a caller's later step fails and takes the whole transaction back
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        ROLLED_BACK[signal](incident, catalog, people)
        raise Abort
    assert callbacks == []
    assert newer(events_log) == []
    fresh = Incident.objects.get(pk=incident.pk)
    assert (fresh.customers_affected, fresh.affected.count(), fresh.roles.count()) == (None, 1, 0)


def test_a_relief_that_rolls_back_announces_nothing(
    incident, people, events_log, django_capture_on_commit_callbacks
):
    sme = services.role_assign(
        incident=incident, role="sme", user=people.responder, by=people.manager, now=at(5)
    )
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        services.role_relieve(assignment=sme, by=people.manager, now=at(6))
        raise Abort
    assert callbacks == []
    assert newer(events_log) == []
    assert RoleAssignment.objects.get(pk=sme.pk).relieved_at is None
