"""The status page section of ``manage.py bench`` (the framework is ``ircore.bench``):
``/status/`` and ``/status.json`` with 50 public components and 90 days of history built
from 100 incidents at the small size and 10,000 at the large one (fewer when ``--large`` is
smaller), whatever sizes the other sections grow to. Targets: the same query count at both
sizes, the large size under twice the small one's time.

The incidents are written in bulk with the history rows of their affected services (the
uptime figures are built from that history): each is degraded at declaration, most go to
major outage after ten minutes and to partial outage after thirty, and resolve within two
hours. Two stay open (with their customer updates, so the page lists active incidents and
its history is rebuilt every minute, as during a real outage). The first ``RECENT`` are
spread over the last twelve days with two published customer updates each, so the page's
list of past incidents is already full at the small size (a list that grows to its cap
between the sizes would be timed as the page growing); after them, one in ten has updates.
"""

from datetime import timedelta

from django.db import transaction

from comms.models import Audience, Notice
from incidents.models import Incident, IncidentService
from ircore.bench import Context, Measurement, Section, register
from ircore.models import Service, Severity

COMPONENTS = 50
INCIDENTS_SMALL, INCIDENTS_LARGE = 100, 10_000
OPEN = 2
RECENT = 25  # more than the page lists (page.RECENT_MAX)
WINDOW = 90 * 86_400
CHUNK = 2000


def setup_status(ctx: Context) -> None:
    ctx.data["status_severity"] = Severity.objects.create(
        key="STATUS-BENCH", rank=90, name="Status bench"
    )
    ctx.data["status_components"] = Service.objects.bulk_create(
        Service(name=f"Component {n:02d}", slug=f"component-{n:02d}", public=True)
        for n in range(1, COMPONENTS + 1)
    )
    ctx.data["status_end"] = ctx.now.replace(second=0, microsecond=0)


def _incidents_for(ctx: Context, start: int) -> tuple[int, int]:
    if start == 0:
        return 0, min(INCIDENTS_SMALL, ctx.small)
    return min(INCIDENTS_SMALL, ctx.small), min(INCIDENTS_LARGE, ctx.large)


def grow_status(ctx: Context, start: int, stop: int) -> None:
    first, last = _incidents_for(ctx, start)
    components, severity = ctx.data["status_components"], ctx.data["status_severity"]
    end = ctx.data["status_end"]
    history = IncidentService.history.model
    for chunk in range(first, last, CHUNK):
        indexes = range(chunk, min(chunk + CHUNK, last))
        with transaction.atomic():
            built = []
            for i in indexes:
                is_open = i < OPEN
                if i < RECENT:
                    declared = end - timedelta(minutes=10 if is_open else 690 * i)
                else:
                    # Spread over the 90 days by a fixed stride: any range adds fresh days.
                    declared = end - timedelta(seconds=(i * 7_919 * 60) % (WINDOW - 3 * 3600))
                length = timedelta(minutes=20 + (i * 37) % 100)
                built.append(
                    Incident(
                        reference=f"INC-STATUS-{i:06d}",
                        title=f"Status bench incident {i}",
                        severity=severity,
                        status="investigating" if is_open else "resolved",
                        is_drill=i % 50 == 17,
                        impact_started_at=declared - timedelta(minutes=5),
                        detected_at=declared,
                        declared_at=declared,
                        acknowledged_at=declared + timedelta(minutes=2),
                        resolved_at=None if is_open else declared + length,
                    )
                )
            incidents = Incident.objects.bulk_create(built)
            affected = []
            for i, incident in zip(indexes, incidents, strict=True):
                picked = {i % COMPONENTS}
                if i % 4 == 0:
                    picked.add((i * 7 + 3) % COMPONENTS)
                affected += [
                    IncidentService(incident=incident, service=components[c], status="degraded")
                    for c in sorted(picked)
                ]
            IncidentService.objects.bulk_create(affected)
            rows, notices = [], []
            for row in affected:
                incident = row.incident
                steps = [("+", "degraded", incident.declared_at)]
                if incident.pk % 3:
                    steps.append(
                        ("~", "major_outage", incident.declared_at + timedelta(minutes=10))
                    )
                    steps.append(
                        ("~", "partial_outage", incident.declared_at + timedelta(minutes=30))
                    )
                for kind, status, when in steps:
                    rows.append(
                        history(
                            id=row.pk,
                            incident_id=incident.pk,
                            service_id=row.service_id,
                            status=status,
                            history_type=kind,
                            history_date=when,
                        )
                    )
            history.objects.bulk_create(rows)
            for i, incident in zip(indexes, incidents, strict=True):
                if i < RECENT or i % 10 == 3:
                    for n, subject in enumerate(("Investigating delays", "Update")):
                        notices.append(
                            Notice(
                                incident=incident,
                                audience=Audience.CUSTOMERS,
                                subject=f"{subject} ({i})",
                                body="Some requests are slower than usual. We are on it.",
                                status=Notice.Status.PUBLISHED,
                                published_at=incident.declared_at + timedelta(minutes=5 + 20 * n),
                            )
                        )
            made = Notice.objects.bulk_create(notices)
            through = Notice.components.through
            picks = {a.incident_id: a.service_id for a in affected}
            through.objects.bulk_create(
                through(notice_id=n.pk, service_id=picks[n.incident_id]) for n in made
            )


def status_measurements(ctx: Context) -> list[Measurement]:
    return [
        Measurement("status page", "/status/"),
        Measurement("status summary JSON", "/status.json", accept="application/json"),
    ]


register(
    Section(
        name="status page",
        setup=setup_status,
        grow=grow_status,
        measurements=status_measurements,
        models=(Notice,),
    )
)
