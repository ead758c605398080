"""/api/v1/pages/: filters (a bad value is a 400 naming it), a fixed number of queries, and
acknowledge through escalation_acknowledge(via="api"), asked of the verb table."""

import pytest
from rest_framework.test import APIClient

from ircore import roles
from oncall.models import EscalationStep, Page

from .test_escalation_fixtures import *  # noqa: F403  (the fixtures)
from .test_escalation_fixtures import run

T = EscalationStep.Target
URL = "/api/v1/pages/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def story(make_policy, org, declare):
    make_policy("Story", [(0, T.LAYER, {"layer": org.layer}), (5, T.USER, {"user": org.vp})])
    first, second = declare(), declare()
    run(6)
    return first, second


def test_list_and_filters(api, org, story):
    first, _ = story
    api.force_authenticate(org.alice)
    body = api.get(URL).json()
    assert body["count"] == 4
    body = api.get(URL, {"incident": first.reference, "recipient": "vp"}).json()
    ((row,),) = [body["results"]]
    assert (row["incident"], row["recipient"], row["status"], row["step"]) == (
        first.reference,
        "vp",
        "sent",
        2,
    )
    assert api.get(URL, {"status": "acknowledged"}).json()["count"] == 0
    assert api.get(URL, {"live": "true"}).json()["count"] == 4


@pytest.mark.parametrize(
    "params,field",
    [
        ({"status": "asleep"}, "status"),
        ({"incident": "NOPE"}, "incident"),
        ({"recipient": "nobody"}, "recipient"),
        ({"drill": "perhaps"}, "drill"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(api, org, story, params, field):
    api.force_authenticate(org.alice)
    response = api.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_the_list_is_a_fixed_number_of_queries(
    api, org, story, declare, django_assert_max_num_queries
):
    api.force_authenticate(org.alice)
    with django_assert_max_num_queries(10) as few:
        assert api.get(URL).status_code == 200
    for _ in range(5):
        declare()
    run(7)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get(URL).json()["count"] == 14


def test_acknowledge_stops_the_escalation(api, org, story):
    first, _ = story
    page = Page.objects.get(incident=first, recipient=org.alice)
    api.force_authenticate(org.alice)
    response = api.post(f"{URL}{page.pk}/acknowledge/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_via"] == "api"
    first.refresh_from_db()
    assert first.acknowledged_at is not None
    assert Page.objects.get(incident=first, recipient=org.vp).status == "stopped"


def test_acknowledge_needs_the_verb(api, make_user, story):
    leader = make_user("leo", roles.LEADERSHIP)
    api.force_authenticate(leader)
    page = Page.objects.first()
    assert api.get(URL).status_code == 200
    assert api.post(f"{URL}{page.pk}/acknowledge/").status_code == 403
    page.refresh_from_db()
    assert page.status == "sent"
    api.force_authenticate(None)
    assert api.get(URL).status_code == 401


def test_acknowledging_a_resolved_incident_is_a_409(api, org, story):
    from incidents.services import incident_set_status

    first, _ = story
    incident_set_status(incident=first, status="resolved", user=org.bob)
    first.refresh_from_db()
    first.acknowledged_at = None
    first.save(update_fields=["acknowledged_at"])
    page = Page.objects.filter(incident=first).first()
    api.force_authenticate(org.alice)
    response = api.post(f"{URL}{page.pk}/acknowledge/")
    assert response.status_code == 409
    assert "status" in response.json()
