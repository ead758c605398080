"""The sections a bench run measures. Each app registers its own in ``<app>/bench.py``
(``register(Section(...))``); ``sections()`` imports those modules the way the admin finds
``admin.py``."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Model
from django.test import Client
from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class Measurement:
    """One thing to time: a GET of ``url`` through the test client (logged in as a
    superuser), or a call of ``call`` for work that is not a page (a reconciler tick)."""

    label: str
    url: str = ""
    call: Callable[[], Any] | None = None
    accept: str = "text/html"


@dataclass
class Context:
    """What sections share during a run. ``data`` holds each section's own lookups."""

    now: datetime
    small: int
    large: int
    client: Client
    superuser: Any
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """A group of measurements and the data they need.

    ``setup(ctx)`` creates fixed rows once; ``grow(ctx, start, stop)`` adds the rows that go
    with indexes ``start..stop-1`` (it is called for ``0..small`` and then for
    ``small..large``, so it must add, never rebuild); ``measurements(ctx)`` lists what to
    time, the same list at both sizes; ``models`` are the tables whose row counts the report
    shows.
    """

    name: str
    measurements: Callable[[Context], list[Measurement]]
    setup: Callable[[Context], None] | None = None
    grow: Callable[[Context, int, int], None] | None = None
    models: tuple[type[Model], ...] = ()


_registry: dict[str, Section] = {}


def register(section: Section) -> Section:
    _registry[section.name] = section
    return section


def sections() -> list[Section]:
    """Registered sections, after importing every installed app's ``bench`` module."""
    autodiscover_modules("bench")
    return list(_registry.values())
