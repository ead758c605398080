"""Affected services and their status. An incident always has at least one: declaring needs
one, and the last cannot be removed."""

from datetime import datetime
from typing import Any

from django.db import transaction

from ircore.errors import RuleError
from ircore.models import Service

from .. import permissions, signals
from ..models import (
    Incident,
    IncidentService,
    TimelineEntry,
)
from ._base import _accepts, _for_history, _locked, _name, _now
from .maintenance_notes import windows_for_incident
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
    if status not in IncidentService.Status.values:
        raise RuleError(
            f"'{status}' is not a service status; use one of "
            f"{', '.join(IncidentService.Status.values)}.",
            field="status",
        )
    if not isinstance(service, Service):
        raise RuleError("Choose a service.", field="service")
    with transaction.atomic():
        locked = _locked(incident)
        now = _now(now)
        _accepts(locked, permissions.SET_SERVICE)
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
        if old is None:
            windows_for_incident(incident=locked, services=[service], now=now)
        signals.send_on_commit(
            signals.affected_service_changed,
            Incident,
            incident=locked,
            user=user,
            service=service,
            old_status=old,
            new_status=status,
            action="added" if old is None else "changed",
        )
    return row


def affected_service_remove(
    *, incident: Incident, service: Service, user: Any, now: datetime | None = None
) -> None:
    """Take a service off the incident; never the last one (add the right one first)."""
    with transaction.atomic():
        locked = _locked(incident)
        now = _now(now)
        _accepts(locked, permissions.REMOVE_SERVICE)
        rows = list(IncidentService.objects.filter(incident=locked).select_related("service"))
        row = next((r for r in rows if r.service_id == getattr(service, "pk", None)), None)
        if row is None:
            raise RuleError(f"{service.name} is not on {locked.reference}.", field="service")
        if len(rows) == 1:
            raise RuleError(
                f"{service.name} is the only affected service on {locked.reference}; an "
                "incident has at least one, so add the right one before removing it.",
                field="service",
            )
        _for_history(row, user)
        row.delete()
        timeline_add(
            incident=locked,
            kind=TimelineEntry.Kind.SERVICE,
            text=f"{_name(user)} removed {service.name}",
            author=user,
            occurred_at=now,
            data={"service": service.slug, "from": row.status, "to": None},
        )
        signals.send_on_commit(
            signals.affected_service_changed,
            Incident,
            incident=locked,
            user=user,
            service=service,
            old_status=row.status,
            new_status=None,
            action="removed",
        )
