"""The AppConfig hooks (``ircore.hooks``): every app of the tool declares itself through one
base class, and ircore's demo loader and bootstrap read the hooks without importing the apps."""

from datetime import UTC, datetime
from types import ModuleType

import pytest
from django.apps import apps

import tests.ircore
from ircore import demo, hooks
from ircore.errors import RuleError
from ircore.models import Heartbeat, Team

NOW = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
TOOL_APPS = ["ircore", "incidents", "oncall", "comms", "postmortems"]


def test_every_app_of_the_tool_subclasses_the_base_and_nothing_else_does():
    assert [config.label for config in hooks.app_configs()] == TOOL_APPS
    assert not isinstance(apps.get_app_config("auth"), hooks.IRAppConfig)


def test_only_apps_that_define_an_optional_hook_are_asked():
    asked = {
        hook: [config.label for config in hooks.apps_with(hook)]
        for hook in (hooks.LoadsDefaults, hooks.LoadsDemo, hooks.HasOwnData, hooks.ShowsBadges)
    }
    assert asked == {
        hooks.LoadsDefaults: ["incidents", "comms"],  # runbooks; templates
        hooks.LoadsDemo: ["incidents", "oncall", "comms", "postmortems"],
        hooks.HasOwnData: ["incidents", "oncall"],
        hooks.ShowsBadges: ["comms"],  # the next update due
    }


def test_role_grants_default_to_nothing_and_list_the_apps_that_grant():
    assert hooks.IRAppConfig.role_grants == {}
    assert [label for label, _ in hooks.role_grants()] == [
        "ircore",
        "incidents",
        "oncall",
        "comms",
        "postmortems",
    ]


class Recorder(hooks.IRAppConfig):
    """An app above ircore that defines every hook, recording how it was called."""

    label = "recorder"
    path = tests.ircore.__path__[0]
    own_data = False

    def __init__(self):
        super().__init__("recorder", ModuleType("recorder"))
        self.calls: list[tuple[str, dict]] = []

    def load_defaults(self) -> str:
        self.calls.append(("load_defaults", {}))
        return "Recorder: defaults loaded."

    def load_demo(self, *, people: dict, services: dict, now: datetime) -> dict[str, int]:
        self.calls.append(("load_demo", {"people": set(people), "services": set(services)}))
        Team.objects.create(name="Recorded", slug="recorded")
        return {"recordings": 1}

    def demo_has_own_data(self) -> bool:
        self.calls.append(("demo_has_own_data", {}))
        return self.own_data


@pytest.fixture
def recorder(monkeypatch):
    """The tool's apps are ircore and the recorder only (the incidents demo needs a policy)."""
    app = Recorder()
    monkeypatch.setattr(hooks, "app_configs", lambda: [apps.get_app_config("ircore"), app])
    return app


def test_load_defaults_collects_each_apps_line(recorder):
    assert hooks.load_defaults() == ["Recorder: defaults loaded."]


@pytest.mark.django_db
def test_demo_load_asks_each_app_then_lets_it_add_rows(recorder):
    counts = demo.demo_load(password="pw", now=NOW)

    assert counts == {"people": 5, "teams": 3, "services": 5, "recordings": 1}
    assert [name for name, _ in recorder.calls] == ["demo_has_own_data", "load_demo"]
    context = recorder.calls[1][1]
    assert context["people"] == set(demo.DEMO_USERNAMES)
    assert "payments-api" in context["services"]
    assert Team.objects.filter(slug="recorded").exists()
    assert demo.demo_loaded() is True
    # Once per database: a second run asks no app anything and adds nothing.
    assert demo.demo_load(password="pw", now=NOW) is None
    assert len(recorder.calls) == 2


@pytest.mark.django_db
def test_an_app_with_data_of_its_own_stops_the_demo_and_nothing_is_written(recorder):
    recorder.own_data = True
    with pytest.raises(RuleError, match="already has people, teams, services or incidents"):
        demo.demo_load(password="pw", now=NOW)
    assert demo.demo_loaded() is False  # the marker rolled back with the rest
    assert not Team.objects.exists()
    assert [name for name, _ in recorder.calls] == ["demo_has_own_data"]


@pytest.mark.django_db
def test_the_demo_marker_is_read_and_written_in_one_place(recorder):
    assert demo.demo_loaded() is False
    demo.demo_load(password="pw", now=NOW)
    marker = demo.MARKER_MODEL.objects.get(name=demo.DEMO_MARKER)
    assert getattr(marker, demo.MARKER_TIME_FIELD) == NOW
    # Not the clock's heartbeat, which /healthz reads.
    assert not Heartbeat.objects.filter(name="clock").exists()
