"""The on-call API against the real views: who is on call now (contact hints, phone only for
those who may read profiles), shifts over a range, 400s naming the parameter, permissions per
persona, and a fixed number of queries however many schedules."""

import pytest
import time_machine
from rest_framework.test import APIClient

from ircore.models import Team
from oncall import services

from .conftest import T0, at

pytestmark = pytest.mark.django_db
NOW = "/api/v1/oncall/now/"


@pytest.fixture
def clock():
    with time_machine.travel(at(days=1, hours=3), tick=False) as traveller:
        yield traveller


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def two_layers(make_layer, crew):
    primary = make_layer([crew.alice, crew.bob], name="Primary")
    secondary = make_layer([crew.carol, crew.dave], name="Secondary")
    return primary, secondary


def as_user(client, user):
    client.force_authenticate(user)
    return client


def test_now_names_primary_and_secondary_with_contact_hints(client, cast, two_layers, clock):
    body = as_user(client, cast.responder).get(NOW).json()
    (row,) = body
    assert row["on_call"]["person"] == {
        "username": "alice",
        "name": "Alice Test",
        "chat_handle": "@alice",
        "phone": "+442079460005",
    }
    assert row["on_call"]["until"] == "2025-03-10T09:00:00Z"
    assert [entry["person"]["username"] for entry in row["layers"]] == ["alice", "carol"]
    assert row["layers"][1]["layer"]["name"] == "Secondary"


def test_support_sees_whom_to_call_but_no_phone(client, cast, two_layers, clock):
    body = as_user(client, cast.support).get(NOW).json()
    assert body[0]["on_call"]["person"]["chat_handle"] == "@alice"
    assert "phone" not in body[0]["on_call"]["person"]


@pytest.mark.parametrize(("persona", "status"), [("leader", 200), ("outsider", 403)])
def test_now_per_persona(client, cast, two_layers, clock, persona, status):
    assert as_user(client, getattr(cast, persona)).get(NOW).status_code == status


def test_now_anonymous_is_refused(client, two_layers):
    assert client.get(NOW).status_code in (401, 403)


def test_now_at_another_instant_and_bad_at(client, cast, two_layers):
    body = as_user(client, cast.manager).get(NOW, {"at": "2025-03-10T10:00:00+01:00"}).json()
    assert body[0]["on_call"]["person"]["username"] == "bob"
    bad = client.get(NOW, {"at": "yesterday"})
    assert bad.status_code == 400 and "at" in bad.json()
    naive = client.get(NOW, {"at": "2025-03-10T10:00:00"})
    assert naive.status_code == 400 and "offset" in naive.json()["at"][0]
    assert client.get(NOW, {"team": "nope"}).status_code == 400


def test_shifts_over_a_range(client, cast, schedule, two_layers, crew):
    url = f"/api/v1/schedules/{schedule.pk}/shifts/"
    body = as_user(client, cast.support).get(url, {"start": "2025-03-03", "end": "2025-03-17"})
    assert body.status_code == 200
    data = body.json()
    assert data["start"] == "2025-03-03T00:00:00Z" and data["time_zone"] == "Europe/London"
    primary = data["layers"][0]["shifts"]
    assert [(s["person"]["username"], s["start"]) for s in primary] == [
        ("alice", "2025-03-03T09:00:00Z"),
        ("bob", "2025-03-10T09:00:00Z"),
    ]
    # The primary has someone throughout, so the final schedule is the primary's.
    assert [(s["person"]["username"], s["layer"]) for s in data["final"]] == [
        ("alice", two_layers[0].pk),
        ("bob", two_layers[0].pk),
    ]


def test_shifts_mark_overrides(client, cast, schedule, two_layers, crew):
    override = services.override_create(
        layer=two_layers[0], user=crew.dave, start=at(days=2), end=at(days=3), by=crew.boss, now=T0
    )
    url = f"/api/v1/schedules/{schedule.pk}/shifts/"
    data = (
        as_user(client, cast.manager)
        .get(url, {"start": "2025-03-05T00:00:00Z", "end": "2025-03-06T12:00:00Z"})
        .json()
    )
    kinds = [
        (s["person"]["username"], s["kind"], s["override_id"]) for s in data["layers"][0]["shifts"]
    ]
    assert kinds == [
        ("alice", "rotation", None),
        ("dave", "override", override.pk),
        ("alice", "rotation", None),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2025-03-10"}, "start"),
        ({"start": "2025-03-10"}, "end"),
        ({"start": "soon", "end": "2025-03-10"}, "start"),
        ({"start": "2025-03-10", "end": "2025-03-09"}, "end"),
        ({"start": "2025-03-01", "end": "2025-07-01"}, "end"),
        ({"start": "1000-01-01T00:00:00Z", "end": "2025-03-10"}, "start"),
        ({"start": "2025-02-30", "end": "2025-03-10"}, "start"),
    ],
)
def test_bad_or_missing_times_are_400_naming_the_field(client, cast, schedule, params, field):
    response = as_user(client, cast.responder).get(
        f"/api/v1/schedules/{schedule.pk}/shifts/", params
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_schedule_list_and_permissions(client, cast, schedule, two_layers):
    assert as_user(client, cast.outsider).get("/api/v1/schedules/").status_code == 403
    body = as_user(client, cast.leader).get("/api/v1/schedules/").json()
    assert [layer["name"] for layer in body["results"][0]["layers"]] == ["Primary", "Secondary"]
    assert client.get("/api/v1/schedules/999999/").status_code == 404


def _many(make_layer, crew, count):
    for i in range(count):
        team = Team.objects.create(name=f"Team {i}", slug=f"team-{i}")
        schedule = services.schedule_create(team=team, name=f"S{i}", time_zone="Europe/London")
        make_layer([crew.alice, crew.bob], target=schedule, name="Primary", level=1)
        make_layer([crew.carol, crew.dave], target=schedule, name="Secondary", level=2)
        services.override_create(
            layer=schedule.layers.first(),
            user=crew.dave,
            start=at(days=1),
            end=at(days=2),
            by=crew.boss,
            now=T0,
        )


@pytest.mark.parametrize("count", [1, 20])
def test_now_costs_the_same_queries_for_1_or_20_schedules(
    client, cast, make_layer, crew, clock, count, django_assert_num_queries
):
    _many(make_layer, crew, count)
    as_user(client, cast.manager)
    # The user's permissions and their groups', then on_call_now's seven reads: schedules
    # with teams, layers, rosters, roster members, overrides, skips, and the people (with
    # their profiles) once for all.
    with django_assert_num_queries(9):
        body = client.get(NOW).json()
    # The fixture's own schedule (no layers: nobody on call) comes first.
    assert len(body) == count + 1 and body[0]["on_call"] is None
    assert {row["on_call"]["person"]["username"] for row in body[1:]} == {"dave"}


def test_shift_dates_are_on_the_schedules_clock(client, cast, schedule, two_layers):
    summer = as_user(client, cast.manager).get(
        f"/api/v1/schedules/{schedule.pk}/shifts/", {"start": "2025-07-01", "end": "2025-07-02"}
    )
    assert summer.json()["start"] == "2025-06-30T23:00:00Z"  # midnight BST


def test_schema_with_the_oncall_urls_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(target),
    )
    text = target.read_text()
    assert "/api/v1/oncall/now/" in text and "/api/v1/schedules/{id}/shifts/" in text
