"""The ``schedules`` policy section: export, import through the on-call services, round trips,
refusals that name the entry and change nothing, roster versions from a date."""

import copy
from datetime import date, time, timedelta

import pytest
import time_machine

from ircore import policy
from ircore.policy import registry
from oncall import policy as oncall_policy
from oncall.models import Layer, LayerRoster, Schedule
from oncall.selectors import layer_on_call

from .conftest import START, T0, at

NOW = at(days=10, hours=3)  # Thursday 13 March 2025, 12:00 UTC: the second week's shift


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """The on-call sections, as the on-call AppConfig registers them."""
    monkeypatch.setattr(registry, "_SECTIONS", dict(registry._SECTIONS))
    oncall_policy.register()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rotation(schedule, make_layer, crew):
    primary = make_layer([crew.alice, crew.bob, crew.carol], name="Primary", level=1)
    secondary = make_layer(
        [crew.bob, crew.carol],
        name="Secondary",
        level=2,
        kind="days",
        every=3,
        active_from=time(8),
        active_until=time(20),
        active_days="12345",
    )
    return primary, secondary


def document():
    return {"version": 1, "schedules": policy.export_policy()["schedules"]}


def test_export_names_teams_and_people_by_slug_and_username(rotation):
    exported = policy.export_policy()["schedules"]

    assert exported == [
        {
            "slug": "payments-on-call",
            "name": "Payments on call",
            "team": "payments",
            "time_zone": "Europe/London",
            "description": "",
            "layers": [
                {
                    "name": "Primary",
                    "level": 1,
                    "kind": "weekly",
                    "every": 1,
                    "start_date": "2025-03-03",
                    "handoff_time": "09:00",
                    "active_from": None,
                    "active_until": None,
                    "active_days": [],
                    "rosters": [
                        {"effective_from": "2025-03-03", "members": ["alice", "bob", "carol"]}
                    ],
                },
                {
                    "name": "Secondary",
                    "level": 2,
                    "kind": "days",
                    "every": 3,
                    "start_date": "2025-03-03",
                    "handoff_time": "09:00",
                    "active_from": "08:00",
                    "active_until": "20:00",
                    "active_days": [1, 2, 3, 4, 5],
                    "rosters": [{"effective_from": "2025-03-03", "members": ["bob", "carol"]}],
                },
            ],
        }
    ]


def test_export_then_import_changes_nothing(rotation):
    assert not policy.import_policy(document()).changed


def test_a_file_rebuilds_the_same_rotation_on_another_install(rotation, crew):
    primary, _ = rotation
    doc = document()
    on_call_before = layer_on_call(layer=primary, at=NOW)
    Schedule.objects.all().delete()

    summary = policy.import_policy(doc, user=crew.boss)

    assert summary.counts["schedules"].created == 1
    assert summary.counts["layers"].created == 2
    assert document() == doc
    rebuilt = Layer.objects.get(name="Primary")
    # Week 2 of alice, bob, carol: bob, on the rebuilt rotation too.
    assert layer_on_call(layer=rebuilt, at=NOW) == on_call_before == crew.bob
    record = rebuilt.history.first()
    assert (record.history_user, record.history_change_reason) == (crew.boss, "policy import")


def test_a_roster_version_to_come_is_added_and_later_dropped(rotation, crew):
    doc = document()
    versions = doc["schedules"][0]["layers"][0]["rosters"]
    versions.append({"effective_from": "2025-03-24", "members": ["alice", "dave"]})

    policy.import_policy(doc, user=crew.boss)

    primary = Layer.objects.get(name="Primary")
    assert list(primary.rosters.values_list("effective_from", flat=True)) == [
        START,
        date(2025, 3, 24),
    ]
    assert document() == doc
    versions.pop()
    summary = policy.import_policy(doc, user=crew.boss)
    assert summary.counts["layers"].updated == 1
    assert list(primary.rosters.values_list("effective_from", flat=True)) == [START]


def test_a_roster_change_that_would_rewrite_the_past_is_refused(rotation):
    doc = document()
    before = document()
    doc["schedules"][0]["layers"][0]["rosters"] = [
        {"effective_from": "2025-03-10", "members": ["dave", "alice"]}
    ]

    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy(doc)

    [problem] = caught.value.problems
    assert problem.startswith("schedules[0] (payments-on-call).layers[0] (Primary).rosters[0]")
    assert "has passed" in problem
    assert document() == before


def test_every_bad_entry_is_named_and_nothing_is_written(rotation):
    doc = document()
    before = copy.deepcopy(doc)
    entry = doc["schedules"][0]
    entry["time_zone"] = "Europe/Lundon"
    entry["layers"][0]["kind"] = "monthly"
    entry["layers"][0]["handoff_time"] = 540  # YAML 1.1 reads an unquoted 09:00 so
    entry["layers"][1]["rosters"][0]["members"] = ["bob", "zed"]
    entry["layers"][1]["active_days"] = [1, 8]
    doc["schedules"].append(
        {**copy.deepcopy(before["schedules"][0]), "slug": "ops", "team": "nobody", "layers": []}
    )

    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy(doc)

    problems = caught.value.problems
    label = "schedules[0] (payments-on-call)"
    assert f'{label}.time_zone: "Europe/Lundon" is not a known time zone (Europe/London)' in (
        problems
    )
    assert any(
        p.startswith(f'{label}.layers[0] (Primary).kind: unknown kind "monthly"') for p in problems
    )
    assert (
        f"{label}.layers[0] (Primary).handoff_time: 540 is not a time of day "
        '(write it in quotes, e.g. "09:00")' in problems
    )
    assert f'{label}.layers[1] (Secondary).rosters[0].members[1]: unknown user "zed"' in problems
    assert any(p.startswith(f"{label}.layers[1] (Secondary).active_days:") for p in problems)
    assert 'schedules[1] (ops).team: unknown team "nobody"' in problems
    assert document() == before


def test_levels_and_names_are_unique_within_a_schedule(rotation):
    doc = document()
    layers = doc["schedules"][0]["layers"]
    layers[1]["level"] = 1
    layers[1]["name"] = "Primary"

    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy(doc)

    assert any(
        ".layers[1] (Primary).name:" in p and "used twice" in p for p in caught.value.problems
    )
    assert any(".layers[1] (Primary).level: 1 is used twice" in p for p in caught.value.problems)


def test_the_file_is_authoritative_for_layers_and_schedules(rotation, crew):
    doc = document()
    doc["schedules"][0]["layers"].pop()
    doc["schedules"][0]["layers"][0]["kind"] = "fortnightly"

    summary = policy.import_policy(doc, user=crew.boss)

    assert summary.counts["layers"].deleted == 1
    assert summary.counts["schedules"].updated == 1
    assert list(Layer.objects.values_list("name", "kind")) == [("Primary", "fortnightly")]
    summary = policy.import_policy({"version": 1, "schedules": []})
    assert summary.counts["schedules"].deleted == 1
    assert not Schedule.objects.exists()


def test_a_file_without_the_section_leaves_schedules_alone(rotation):
    before = document()

    policy.import_policy({"version": 1})

    assert document() == before
    assert LayerRoster.objects.count() == 2


def test_export_lists_the_version_in_force_and_those_to_come_only(rotation, crew, make_layer):
    primary, _ = rotation
    from oncall import services

    services.roster_set(
        layer=primary,
        effective_from=date(2025, 3, 11),
        members=[crew.carol, crew.dave],
        by=crew.boss,
        accept_warnings=True,
        now=at(days=7, hours=-1),
    )

    [layer, _] = document()["schedules"][0]["layers"]

    # Taken over at the hand-off of Monday 17 March 2025, still to come on the 13th: both show.
    assert [v["effective_from"] for v in layer["rosters"]] == ["2025-03-03", "2025-03-11"]
    with time_machine.travel(T0 + timedelta(days=15), tick=False):
        [layer, _] = document()["schedules"][0]["layers"]
    assert [v["effective_from"] for v in layer["rosters"]] == ["2025-03-11"]
