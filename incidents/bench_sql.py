"""The incidents section's rows written set-based on PostgreSQL: the very rows
``incidents.bench._incident`` and ``grow_incidents`` build in Python (the same references,
statuses, severities, times and related rows for each index ``i``), one statement per table.
"""

from datetime import timedelta

from ircore.bench import Context
from ircore.bench.sql import array, insert_select, literal, series

from .bench import DAYS, SEVERITY_PATTERN, STATUS_PATTERN, TITLES
from .models import Incident, IncidentService, RoleAssignment, TimelineEntry

NUMBER = f"(g.i / {DAYS} + 1)"  # the incident's number on its day


def _declared(end: str) -> str:
    """_incident()'s declared_at; ``end`` is the start of today (UTC)."""
    return (
        f"({literal(end)}::timestamptz - make_interval(days => (g.i % {DAYS})::int + 1)"
        f" + make_interval(secs => (({NUMBER} * 797 + g.i) % 86400)::int))"
    )


def _reference(declared: str) -> str:
    number = NUMBER
    return (
        f"'INC-' || to_char({declared} AT TIME ZONE 'UTC', 'YYYY-MM-DD') || '-' || "
        f"lpad({number}::text, greatest(3, length({number}::text)), '0')"
    )


def grow_incidents_sql(ctx: Context, start: int, stop: int) -> None:
    declared = _declared(ctx.data["end"].isoformat())
    reference = _reference(declared)
    reached = [Incident.Status.values.index(status) for status in STATUS_PATTERN]
    pattern = len(STATUS_PATTERN)
    severities = [ctx.data["severities"][n].pk for n in SEVERITY_PATTERN]
    types = [t.pk for t in ctx.data["types"]] + [None]
    step = "make_interval(mins => (5 + g.i % 40)::int)"
    reach = f"({array(reached, 'int')})[g.i % {pattern} + 1]"
    rows = f"{series(start, stop)} CROSS JOIN LATERAL (SELECT {declared} AS declared) d"
    insert_select(
        Incident,
        {
            "reference": _reference("d.declared"),
            "title": f"({array(TITLES, 'text')})[g.i % {len(TITLES)} + 1] || ' #' || g.i",
            "severity_id": f"({array(severities, 'bigint')})[g.i % {len(severities)} + 1]",
            "incident_type_id": f"({array(types, 'bigint')})[g.i % {len(types)} + 1]",
            "status": f"({array(STATUS_PATTERN, 'text')})[g.i % {pattern} + 1]",
            "is_drill": "g.i % 50 = 7",
            "channel_name": "'#incident-' || to_char(d.declared AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD') || '-bench-' || g.i",
            "impact_started_at": f"d.declared - 2 * {step}",
            "detected_at": f"d.declared - {step}",
            "declared_at": "d.declared",
            "acknowledged_at": f"CASE WHEN {reach} >= 1 THEN d.declared + {step} END",
            "mitigated_at": f"CASE WHEN {reach} >= 3 THEN d.declared + 4 * {step} END",
            "resolved_at": f"CASE WHEN {reach} >= 4 THEN d.declared + 6 * {step} END",
            "closed_at": f"CASE WHEN {reach} >= 5 THEN d.declared + interval '3 days' END",
            "customers_affected": "CASE WHEN g.i % 4 = 0 THEN (g.i * 37) % 5000 END",
            "financial_impact": "CASE WHEN g.i % 6 = 0 THEN (g.i * 113) % 250000 END",
        },
        rows,
    )
    # The related rows find their incident by reference (unique, indexed).
    joined = f"{series(start, stop)} JOIN incidents_incident inc ON inc.reference = {reference}"
    services = [s.pk for s in ctx.data["services"]]
    statuses = list(IncidentService.Status.values)
    insert_select(
        IncidentService,
        {
            "incident_id": "inc.id",
            "service_id": f"({array(services, 'bigint')})[picked.s + 1]",
            "status": f"({array(statuses, 'text')})[2 + g.i % 3]",
        },
        f"{joined} CROSS JOIN LATERAL (SELECT DISTINCT unnest(CASE WHEN g.i % 3 = 0 "
        f"THEN ARRAY[g.i % {len(services)}, (g.i * 3 + 1) % {len(services)}] "
        f"ELSE ARRAY[g.i % {len(services)}] END) AS s) picked",
    )
    responders = [u.pk for u in ctx.data["responders"]]
    holder = f"({array(responders, 'bigint')})"
    half_hour = literal(str(timedelta(minutes=30))) + "::interval"
    ic = RoleAssignment.Role.INCIDENT_COMMANDER
    insert_select(  # the relieved IC of a hand-over (10%)
        RoleAssignment,
        {
            "incident_id": "inc.id",
            "role": literal(ic),
            "user_id": f"{holder}[(g.i + 1) % {len(responders)} + 1]",
            "assigned_at": "inc.declared_at",
            "relieved_at": f"inc.declared_at + {half_hour}",
        },
        f"{joined} WHERE g.i % 10 = 0",
    )
    insert_select(  # the current IC (70%)
        RoleAssignment,
        {
            "incident_id": "inc.id",
            "role": literal(ic),
            "user_id": f"{holder}[g.i % {len(responders)} + 1]",
            "assigned_at": f"inc.declared_at + {half_hour}",
            "relieved_at": "NULL",
        },
        f"{joined} WHERE g.i % 10 < 7",
    )
    kinds = TimelineEntry.Kind
    entries = (
        f"(VALUES ({literal(kinds.DECLARED)}, 0, 'Declared '), "
        f"({literal(kinds.NOTE)}, 12, 'Rolled back the last deploy.'), "
        f"({literal(kinds.STATUS)}, 45, 'Status: ')) AS e(kind, minutes, text)"
    )
    insert_select(
        TimelineEntry,
        {
            "incident_id": "inc.id",
            "kind": "e.kind",
            "occurred_at": "inc.declared_at + make_interval(mins => e.minutes)",
            "text": f"e.text || CASE e.kind WHEN {literal(kinds.DECLARED)} THEN inc.reference "
            f"WHEN {literal(kinds.STATUS)} THEN inc.status ELSE '' END",
        },
        f"{joined} CROSS JOIN {entries} WHERE g.i % 3 = 0",
    )
