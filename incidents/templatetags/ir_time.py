"""Every time on the incident pages carries its zone: "2026-12-01 07:32 UTC", "09:32 CET".

The viewer's zone is the one ``ircore.middleware.UserTimezoneMiddleware`` activated from
their profile; without the label, the same moment reads 07:32 to one person and 16:32 to
another and nobody can tell which is meant. Python code calls ``when``; templates use
``{% load ir_time %}{{ value|when }}``.
"""

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


def zone_abbreviation(local: datetime) -> str:
    """The zone's short name at that moment (CET, CEST, UTC); zones without one (tzdata
    writes "-03") read as an offset from UTC."""
    name = local.tzname() or ""
    return f"UTC{name}" if name[:1] in "+-" else name


@register.filter
def when(value: datetime | None) -> str:
    """A moment in the viewer's zone, with the zone: "2025-03-14 18:00 JST"; "—" for none."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M} {zone_abbreviation(local)}"


def zone_label() -> str:
    """The viewer's zone as form help texts name it: "Europe/Paris (CET)"."""
    zone = timezone.get_current_timezone()
    abbreviation = zone_abbreviation(timezone.localtime(timezone.now(), zone))
    name = str(zone)
    return name if name == abbreviation else f"{name} ({abbreviation})"
