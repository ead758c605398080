"""What an app of the tool tells ``ircore`` about itself: the AppConfig hooks.

``ircore`` never imports the apps above it (incidents, oncall, comms, postmortems); it reads
what they declare on their AppConfig, which subclasses :class:`IRAppConfig`:

``role_grants`` (attribute, default ``{}``: nothing granted)
    What each role group holds of this app's models, re-granted after every migrate
    (``ircore.roles.sync_role_groups``): ``{group: {model_name: "add change delete view"}}``,
    or ``{group: {"perm:<codename>": model_name}}`` for a custom permission.

``load_defaults(self) -> str`` (optional; :class:`LoadsDefaults`)
    Seed content the app ships (the incidents app: runbooks), once: ``bootstrap`` calls it
    after the policy and the demo data on every run, so it must notice it already ran. It
    returns the line ``bootstrap`` prints.

``load_demo(self, *, people, services, now) -> dict[str, int]`` (optional; :class:`LoadsDemo`)
    Add this app's demo rows on top of ircore's people (``{username: User}``) and services
    (``{slug: Service}``), inside the demo transaction; returns ``{what: how many}``.

``demo_has_own_data(self) -> bool`` (optional; :class:`HasOwnData`)
    Whether the database holds rows of this app that are not demo data; any app saying so
    stops the demo from loading (demo rows never mix into an install's real history).

``health_checks(self) -> dict[str, dict]`` (optional; :class:`ChecksHealth`)
    What ``/healthz`` reports for this app beside the database, the broker and the clock:
    ``{name: {"ok": bool, ...figures}}`` (the on-call app: ``"escalation"``, how late the
    oldest due escalation is). Reported, never fatal; a name not ``ok`` is listed under the
    report's ``late``. Keep each to a query or two on an index: monitors poll it.

``incident_badges(self, incidents, *, now) -> dict[int, list[Badge]]`` (optional;
:class:`ShowsBadges`)
    Short lines an app adds to the board's rows and the incident page about the incidents
    given (a list): ``{incident_id: [(label, text, level)]}``, e.g. comms' ``("Internal
    update", "overdue by 12m, due 10:15 UTC", "overdue")``; ``level`` is "due", "overdue" or
    "none" (how it is styled). A fixed number of queries whatever the number of incidents:
    the board's query count must not grow with its rows. Times in ``text`` are in the
    viewer's zone (the active one), with its name.

An optional hook left undefined means the app takes no part; the functions below iterate
only the apps that define it, in ``INSTALLED_APPS`` order.
"""

import logging
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from django.apps import AppConfig, apps

logger = logging.getLogger(__name__)

Grants = dict[str, dict[str, str]]


class IRAppConfig(AppConfig):
    """The base of every app of the tool (see the module docstring for each hook).

    Subclass it as ``hooks.IRAppConfig`` (``from ircore import hooks``): Django picks the one
    AppConfig subclass an ``apps.py`` holds, and an imported base would be a second one.
    """

    role_grants: ClassVar[Grants] = {}


@runtime_checkable
class LoadsDefaults(Protocol):
    def load_defaults(self) -> str: ...


@runtime_checkable
class LoadsDemo(Protocol):
    def load_demo(self, *, people: dict, services: dict, now: datetime) -> dict[str, int]: ...


@runtime_checkable
class HasOwnData(Protocol):
    def demo_has_own_data(self) -> bool: ...


@runtime_checkable
class ChecksHealth(Protocol):
    def health_checks(self) -> dict[str, dict]: ...


def app_configs() -> list[IRAppConfig]:
    """The installed apps of the tool, in ``INSTALLED_APPS`` order."""
    return [config for config in apps.get_app_configs() if isinstance(config, IRAppConfig)]


def apps_with(hook: type) -> list[Any]:
    """The tool's apps that define an optional hook, given by its Protocol."""
    return [config for config in app_configs() if isinstance(config, hook)]


def role_grants() -> list[tuple[str, Grants]]:
    """``(app_label, grants)`` of every app that grants anything."""
    return [(config.label, config.role_grants) for config in app_configs() if config.role_grants]


def load_defaults() -> list[str]:
    """Run every app's ``load_defaults``; the lines to print, in app order."""
    return [config.load_defaults() for config in apps_with(LoadsDefaults)]


def load_demo(*, people: dict, services: dict, now: datetime) -> dict[str, int]:
    """Run every app's ``load_demo``; their counts merged."""
    counts: dict[str, int] = {}
    for config in apps_with(LoadsDemo):
        counts.update(config.load_demo(people=people, services=services, now=now))
    return counts


def demo_has_own_data() -> bool:
    """Whether any app says the database holds data of its own."""
    return any(config.demo_has_own_data() for config in apps_with(HasOwnData))


def health_checks() -> dict[str, dict]:
    """Every app's health checks, merged in app order. A check that raises is reported as
    not ok with the kind of error (the text goes to the log), never as a failed /healthz."""
    found: dict[str, dict] = {}
    for config in apps_with(ChecksHealth):
        try:
            found.update(config.health_checks())
        except Exception as exc:  # a broken check must not hide the others
            logger.exception("healthz: the %s checks failed", config.label)
            found[config.label] = {"ok": False, "error": type(exc).__name__}
    return found


# (label, text, level): one line about an incident on the board and the incident page.
Badge = tuple[str, str, str]


@runtime_checkable
class ShowsBadges(Protocol):
    def incident_badges(self, incidents: list, *, now: datetime) -> dict[int, list[Badge]]: ...


def incident_badges(incidents: list, *, now: datetime) -> dict[int, list[Badge]]:
    """Every app's badges for ``incidents``, merged per incident in app order; nothing is
    asked when there are no incidents (an empty board costs no query)."""
    found: dict[int, list[Badge]] = {}
    if not incidents:
        return found
    for config in apps_with(ShowsBadges):
        for incident_id, badges in config.incident_badges(incidents, now=now).items():
            found.setdefault(incident_id, []).extend(badges)
    return found
