"""The incidents section of ``manage.py bench`` (the framework is ``ircore.bench``): the
admin change list and the API list of incidents, over incidents with their affected services,
IC assignments and timeline entries.
"""

import math
from datetime import timedelta
from decimal import Decimal

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse

from ircore.bench import Context, Measurement, Section, register
from ircore.models import IncidentType, Service, Severity

from .models import Incident, IncidentService, RoleAssignment, TimelineEntry

# Rows built in memory and written per transaction while generating.
CHUNK = 2000

# References spread over about three years of days: index i is day ``i % DAYS`` back from
# today, number ``i // DAYS + 1`` that day, so any index range adds fresh references.
DAYS = 3 * 365
SEVERITIES = (  # (key, rank, name)
    ("SEV-1", 1, "Critical"),
    ("SEV-2", 2, "High"),
    ("SEV-3", 3, "Medium"),
    ("SEV-4", 4, "Low"),
)
TYPES = (("outage", "Outage"), ("degradation", "Degradation"), ("security", "Security"))
SERVICES = (
    "Payments API",
    "Settlement",
    "Checkout",
    "Merchant Dashboard",
    "Webhooks",
    "Search",
    "Notifications",
    "Internal Admin",
)
# Status and severity follow the index in fixed patterns rather than at random, so every
# filtered view has rows at any size (a page without rows skips its prefetch query and
# would make the query counts differ for a reason that is not the code's). Investigating is
# 15%, so that the filtered pages are already full at the default small size (150 of 1,000
# rows; admin pages hold 100): a half-empty page would render faster for that reason alone.
STATUS_PATTERN = (
    ("declared", "identified", "monitoring")
    + ("investigating",) * 3
    + ("resolved",) * 2
    + ("closed",) * 12
)
SEVERITY_PATTERN = (0, 1, 1, 2, 2, 2, 3, 3, 3, 3)  # indexes into SEVERITIES: 10% SEV-1
TITLES = (
    "Elevated error rate",
    "Latency above target",
    "Failed deployment",
    "Queue backlog growing",
    "Certificate expiry",
    "Database failover",
    "Third-party outage",
)
RESPONDERS = 5


def setup_incidents(ctx: Context) -> None:
    user_model = get_user_model()
    ctx.data["responders"] = [
        user_model.objects.create_user(f"bench-responder-{n}", password=None, is_staff=True)
        for n in range(1, RESPONDERS + 1)
    ]
    ctx.data["severities"] = [
        Severity.objects.create(key=key, rank=rank, name=name) for key, rank, name in SEVERITIES
    ]
    ctx.data["types"] = [IncidentType.objects.create(key=key, name=name) for key, name in TYPES]
    ctx.data["services"] = [
        Service.objects.create(name=name, slug=name.lower().replace(" ", "-")) for name in SERVICES
    ]
    # Incidents count back from the start of today (UTC).
    ctx.data["end"] = ctx.now.replace(hour=0, minute=0, second=0, microsecond=0)


def _incident(ctx: Context, i: int) -> Incident:
    day, number = i % DAYS, i // DAYS + 1
    declared = (
        ctx.data["end"] - timedelta(days=day + 1) + timedelta(seconds=(number * 797 + i) % 86_400)
    )
    status = STATUS_PATTERN[i % len(STATUS_PATTERN)]
    severities, types = ctx.data["severities"], [*ctx.data["types"], None]
    title = f"{TITLES[i % len(TITLES)]} #{i}"
    reached = Incident.Status.values.index(status)  # how far through the lifecycle
    step = timedelta(minutes=5 + i % 40)
    return Incident(
        reference=f"INC-{declared:%Y-%m-%d}-{number:03d}",
        title=title,
        severity=severities[SEVERITY_PATTERN[i % len(SEVERITY_PATTERN)]],
        incident_type=types[i % len(types)],
        status=status,
        is_drill=i % 50 == 7,
        channel_name=f"#incident-{declared:%Y-%m-%d}-bench-{i}",
        impact_started_at=declared - 2 * step,
        detected_at=declared - step,
        declared_at=declared,
        acknowledged_at=declared + step if reached >= 1 else None,
        mitigated_at=declared + 4 * step if reached >= 3 else None,
        resolved_at=declared + 6 * step if reached >= 4 else None,
        closed_at=declared + timedelta(days=3) if reached >= 5 else None,
        customers_affected=(i * 37) % 5000 if i % 4 == 0 else None,
        financial_impact=Decimal((i * 113) % 250_000) if i % 6 == 0 else None,
    )


def grow_incidents(ctx: Context, start: int, stop: int) -> None:
    """Add incidents ``start..stop-1`` with their affected services, IC assignments (70%,
    with a hand-over for 10%) and a few timeline entries (a third of them).

    On PostgreSQL the same rows are written set-based (``incidents.bench_sql``), a million in
    minutes; elsewhere they are built here as model instances.

    Rows go in with ``bulk_create`` and references are computed rather than drawn from the
    per-day counter through ``incident_declare``: declaring 100,000 incidents one by one
    (a transaction, checklist, timeline entry and history rows each) would take far too long.
    No history rows are written; no list page reads them.
    """
    if connection.vendor == "postgresql":
        from .bench_sql import grow_incidents_sql

        grow_incidents_sql(ctx, start, stop)
    else:
        grow_incidents_python(ctx, start, stop)


def grow_incidents_python(ctx: Context, start: int, stop: int) -> None:
    services, responders = ctx.data["services"], ctx.data["responders"]
    statuses = list(IncidentService.Status.values)
    for chunk_start in range(start, stop, CHUNK):
        indexes = range(chunk_start, min(chunk_start + CHUNK, stop))
        with transaction.atomic():
            incidents = Incident.objects.bulk_create([_incident(ctx, i) for i in indexes])
            affected, roles, timeline = [], [], []
            for i, incident in zip(indexes, incidents, strict=True):
                picked = (
                    {i % len(services), (i * 3 + 1) % len(services)}
                    if i % 3 == 0
                    else {i % len(services)}
                )
                affected += [
                    IncidentService(
                        incident=incident, service=services[s], status=statuses[1 + i % 3]
                    )
                    for s in sorted(picked)
                ]
                declared = incident.declared_at
                if i % 10 < 7:
                    if i % 10 == 0:
                        roles.append(
                            RoleAssignment(
                                incident=incident,
                                role=RoleAssignment.Role.INCIDENT_COMMANDER,
                                user=responders[(i + 1) % len(responders)],
                                assigned_at=declared,
                                relieved_at=declared + timedelta(minutes=30),
                            )
                        )
                    roles.append(
                        RoleAssignment(
                            incident=incident,
                            role=RoleAssignment.Role.INCIDENT_COMMANDER,
                            user=responders[i % len(responders)],
                            assigned_at=declared + timedelta(minutes=30),
                        )
                    )
                if i % 3 == 0:
                    timeline += [
                        TimelineEntry(
                            incident=incident,
                            kind=kind,
                            occurred_at=declared + timedelta(minutes=minutes),
                            text=text,
                        )
                        for kind, minutes, text in (
                            (TimelineEntry.Kind.DECLARED, 0, f"Declared {incident.reference}"),
                            (TimelineEntry.Kind.NOTE, 12, "Rolled back the last deploy."),
                            (TimelineEntry.Kind.STATUS, 45, f"Status: {incident.status}"),
                        )
                    ]
            IncidentService.objects.bulk_create(affected)
            RoleAssignment.objects.bulk_create(roles)
            TimelineEntry.objects.bulk_create(timeline)


def incident_measurements(ctx: Context) -> list[Measurement]:
    changelist = reverse("admin:incidents_incident_changelist")
    model_admin = admin.site.get_model_admin(Incident)
    # The same deep page at both sizes, so it must exist at the small size too.
    deep = max(1, min(50, math.ceil(ctx.small / model_admin.list_per_page)))
    api = "/api/v1/incidents/"
    as_json = "application/json"
    return [
        Measurement("admin change list, page 1", changelist),
        Measurement(f"admin change list, page {deep}", f"{changelist}?p={deep}"),
        Measurement(
            "admin change list, status=investigating",
            f"{changelist}?status__exact=investigating",
        ),
        Measurement("API list, page 1", api, accept=as_json),
        Measurement(
            "API list, status=investigating", f"{api}?status=investigating", accept=as_json
        ),
    ]


register(
    Section(
        name="incidents",
        setup=setup_incidents,
        grow=grow_incidents,
        measurements=incident_measurements,
        models=(Incident, IncidentService, RoleAssignment, TimelineEntry),
    )
)

# The alerts section (ingestion through the view and a live server).
from . import bench_alerts  # noqa: E402, F401
