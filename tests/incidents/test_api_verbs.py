# ruff: noqa: F811 - the fixtures imported from test_api are requested by name
"""The API asks the one verb table (``ircore.verbs``) for every action: each action is a
declared verb, a custom group holding one verb's permissions gets exactly that action, and
what a closed incident does not accept is refused with a 4xx naming the rule."""

import pytest
from django.contrib.auth.models import Group, Permission

from incidents import services
from incidents.api.views import IncidentViewSet
from incidents.models import Incident
from ircore.verbs import verb

from .test_api import (  # noqa: F401
    T0,
    certified,
    client_for,
    clock,
    counts,
    make,
    policy,
    url,
)


def test_every_routed_action_is_a_declared_verb():
    routed = {
        action
        for method_map in (
            {"get": "list", "post": "create"},
            {"get": "retrieve", "patch": "partial_update"},
        )
        for action in method_map.values()
    } | {extra.__name__ for extra in IncidentViewSet.get_extra_actions()}
    assert routed <= set(IncidentViewSet.action_verbs) - {"metadata"}
    for name in IncidentViewSet.action_verbs.values():
        verb(name)  # raises for a verb nobody declared


def _holding(make_user, codenames: tuple[str, ...], name: str):
    """A user in a custom group with exactly these permissions ("app_label.codename")."""
    group = Group.objects.create(name=name)
    for perm in codenames:
        app_label, codename = perm.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    user = make_user(name)
    user.groups.add(group)
    return user


def test_a_group_holding_only_the_tick_verb_may_tick_and_nothing_else(make, make_user, clock):
    incident = make()
    item = incident.checklist.first()
    ticker = client_for(_holding(make_user, verb("tick").perms, "tickers"))

    ticked = ticker.post(url(incident, "checklist", str(item.pk), "tick"), {}, format="json")
    assert ticked.status_code == 200, ticked.data
    item.refresh_from_db()
    assert item.done is True
    # Reading the incident is part of the verb; editing it is not.
    assert ticker.get(url(incident)).status_code == 200
    refused = ticker.patch(url(incident), {"title": "Renamed"}, format="json")
    assert refused.status_code == 403
    assert ticker.post(url(incident, "notes"), {"kind": "note", "text": "x"}).status_code == 403


def test_a_group_with_change_incident_but_not_the_checklist_may_not_tick(make, make_user, clock):
    incident = make()
    item = incident.checklist.first()
    editor = client_for(_holding(make_user, verb("edit_details").perms, "editors"))
    assert editor.patch(url(incident), {"title": "Renamed"}, format="json").status_code == 200
    response = editor.post(url(incident, "checklist", str(item.pk), "tick"), {}, format="json")
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.done is False


# --- a closed incident ---------------------------------------------------------------------


@pytest.fixture
def closed(make, policy, cast, certified):
    """A closed security incident with two services, a role holder and an open checklist."""
    incident = make(services=[policy.api, policy.settlement], incident_type=policy.security)
    services.role_assign(incident=incident, role="sme", user=cast.responder, by=cast.manager)
    services.incident_acknowledge(incident=incident, user=cast.manager, now=T0)
    services.incident_set_status(incident=incident, status="resolved", user=cast.manager, now=T0)
    services.incident_set_status(incident=incident, status="closed", user=cast.manager, now=T0)
    incident.refresh_from_db()
    assert incident.is_closed
    return incident


def _closed_writes(incident: Incident) -> dict[str, tuple[str, str, dict]]:
    item = incident.checklist.first()
    assignment = incident.roles.get()
    return {
        "edit_details": ("patch", url(incident), {"title": "Renamed"}),
        "acknowledge": ("post", url(incident, "acknowledge"), {}),
        "move": ("post", url(incident, "status"), {"status": "investigating"}),
        "change_severity": (
            "post",
            url(incident, "severity"),
            {"severity": "SEV-1", "reason": "x"},
        ),
        "assign_role": ("post", url(incident, "roles"), {"role": "tech_lead", "user": "mia"}),
        "relieve_role": ("post", url(incident, "roles", str(assignment.pk), "relieve"), {}),
        "tick": ("post", url(incident, "checklist", str(item.pk), "tick"), {}),
        "set_service": ("post", url(incident, "services"), {"service": "webhooks"}),
        "remove_service": ("delete", url(incident, "services", "settlement"), {}),
        "mark_checkpoint": (
            "post",
            url(incident, "security-checkpoint"),
            {"checkpoint": "evidence_preserved"},
        ),
    }


# Every verb a closed incident does not accept (notes are the one it does).
CLOSED_VERBS = [
    "edit_details",
    "acknowledge",
    "move",
    "change_severity",
    "assign_role",
    "relieve_role",
    "tick",
    "set_service",
    "remove_service",
    "mark_checkpoint",
]


@pytest.mark.parametrize("name", CLOSED_VERBS)
def test_a_closed_incident_refuses_what_it_does_not_accept_naming_the_rule(closed, cast, name):
    assert verb(name).on_closed is False  # the table says a closed incident refuses it
    method, path, body = _closed_writes(closed)[name]
    before = counts(), Incident.objects.values().get(pk=closed.pk)

    response = getattr(client_for(cast.manager), method)(path, body, format="json")

    assert response.status_code in (400, 409), (name, response.status_code, response.data)
    reasons = [reason for field in response.data.values() for reason in field]
    assert reasons and all(isinstance(reason, str) and reason for reason in reasons)
    assert (counts(), Incident.objects.values().get(pk=closed.pk)) == before


def test_a_closed_incident_still_takes_notes(closed, cast):
    assert verb("note").on_closed is True
    response = client_for(cast.manager).post(
        url(closed, "notes"), {"kind": "note", "text": "Postmortem: PM-12"}, format="json"
    )
    assert response.status_code == 201, response.data
