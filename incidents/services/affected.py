"""Affected services and their status."""

from datetime import datetime
from typing import Any

from django.db import transaction

from ircore.errors import RuleError
from ircore.models import Service

from ..models import (
    Incident,
    IncidentService,
    TimelineEntry,
)
from ._base import _for_history, _locked, _name, _now
from .timeline import timeline_add


def affected_service_set(
    *,
    incident: Incident,
    service: Service,
    status: str,
    user: Any,
    now: datetime | None = None,
) -> IncidentService:
    """Add a service to the incident or change its status."""
    now = _now(now)
    if status not in IncidentService.Status.values:
        raise RuleError(
            f"'{status}' is not a service status; use one of "
            f"{', '.join(IncidentService.Status.values)}.",
            field="status",
        )
    with transaction.atomic():
        locked = _locked(incident)
        row = IncidentService.objects.filter(incident=locked, service=service).first()
        old = row.status if row else None
        if row is None:
            row = IncidentService(incident=locked, service=service, status=status)
        elif old == status:
            return row
        row.status = status
        _for_history(row, user)
        row.save()
        label = IncidentService.Status(status).label
        text = (
            f"{_name(user)} added {service.name} ({label.lower()})"
            if old is None
            else f"{_name(user)} set {service.name}: "
            f"{IncidentService.Status(old).label.lower()} → {label.lower()}"
        )
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.SERVICE,
            text=text,
            author=user,
            occurred_at=now,
            data={"service": service.slug, "from": old, "to": status},
        )
    return row


def affected_service_remove(
    *, incident: Incident, service: Service, user: Any, now: datetime | None = None
) -> None:
    with transaction.atomic():
        locked = _locked(incident)
        row = IncidentService.objects.filter(incident=locked, service=service).first()
        if row is None:
            raise RuleError(f"{service.name} is not on {locked.reference}.", field="service")
        _for_history(row, user)
        row.delete()
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.SERVICE,
            text=f"{_name(user)} removed {service.name}",
            author=user,
            occurred_at=_now(now),
            data={"service": service.slug, "from": row.status, "to": None},
        )
