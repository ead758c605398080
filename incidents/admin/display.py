"""Display helpers shared by the incident pages: ages, durations, the regulatory clock,
times with their zone, notes as Markdown."""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.utils.html import format_html

from ..markdown import render_markdown
from ..models import (
    Incident,
)
from ..templatetags.ir_time import when

__all__ = ["age_text", "humanise", "note_html", "regulatory_state", "time_columns", "when"]


def humanise(delta: timedelta) -> str:
    """A duration as people say it in an incident: 12m, 2h 10m, 41h 12m, 5d 3h."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes}m"
    # Up to three days in hours: regulatory clocks (72h) are counted that way.
    if hours < 72:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def age_text(incident: Incident, now: datetime) -> str:
    if incident.resolved_at is not None:
        return f"resolved after {humanise(incident.resolved_at - incident.declared_at)}"
    return f"open for {humanise(now - incident.declared_at)}"


def regulatory_state(incident: Incident, now: datetime) -> dict[str, Any] | None:
    """The regulator's clock (``Incident.regulatory_clock``) in words: due in, overdue by,
    or met."""
    clock = incident.regulatory_clock(now)
    if clock is None:
        return None
    due, notified = clock.due_at, clock.notified_at
    text = {
        "met": lambda: f"Regulator notified {humanise(due - notified)} before the deadline",
        "late": lambda: f"Regulator notified {humanise(notified - due)} after the deadline",
        "due": lambda: f"Regulator notification due in {humanise(due - now)}",
        "overdue": lambda: f"Regulator notification OVERDUE by {humanise(now - due)}",
    }[clock.level]()
    kind = incident.incident_type
    return {
        "text": text,
        "level": clock.level,
        "due_at": due,
        # The hours the type states today; the deadline itself was fixed when it was set.
        "hours": kind.regulatory_notification_hours if kind else None,
    }


def note_html(text: str) -> str:
    """A timeline entry's text as sanitised Markdown, wrapping long words (a 100,000-character
    word must not widen the page)."""
    return format_html('<div class="ir-note ir-wrap">{}</div>', render_markdown(text))


def _when_column(field: str, label: str) -> Callable[[Any, Model], str]:
    @admin.display(description=label, ordering=field)
    def show(self: Any, obj: Model) -> str:
        return when(getattr(obj, field))

    return show


def time_columns(model: type[Model], fields: Iterable[str]) -> type:
    """A mixin for a ModelAdmin (or inline): for each datetime field ``x``, a column or
    read-only field ``x_shown`` that reads it with its zone (``when``), where the admin's
    own display would print a bare local time."""
    return type(
        f"{model.__name__}TimeColumns",
        (),
        {
            f"{field}_shown": _when_column(field, model._meta.get_field(field).verbose_name)
            for field in fields
        },
    )
