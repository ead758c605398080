"""The alerts section of ``manage.py bench`` (the framework is ``ircore.bench``): ingestion.

Measured (the report's rows, at both sizes): the query count and time of one new event, one
repeat and one Alertmanager batch through the real view (in-process), and the bare bulk
insert of the same batch's rows, with 10 open (firing) alerts on the integration at the small
size and 10,000 at the large one (fewer when ``--large`` is smaller): the query count per
alert must not change with the open alerts.

Once, when growing to the large size, a live server takes concurrent clients: forked worker
processes sharing one listening socket, each serving one request at a time with its own
persistent database connection (the README's gunicorn ``--workers`` deployment in miniature),
and client threads in the bench process (out of the workers' interpreters). It posts single
events (PagerDuty Events v2 at ``/v2/enqueue``): first with the clients flat out (events per
second: the capacity), then paced at a steady ``TARGET_PER_SECOND`` (the median server time
at that load); then 1,000-alert Alertmanager batches, and the same alert rows are
bulk-inserted bare in the same run. Server time is each request inside the WSGI handler
(from the parsed request to the response: no network). Targets: >= 100 single events/s,
median under 10 ms at 100/s, batches within 5x of the bare insert. On SQLite one client and
one worker (a writer at a time); the targets are for PostgreSQL.

CPU per event, besides wall time, because wall time on a shared machine measures the
neighbours too: the worker's process CPU inside the handler (median per request), and for
the flat-out run the whole CPU the events cost, the workers' and their PostgreSQL backends'
(``/proc/<pid>/stat`` before and after, divided by the events; Linux, PostgreSQL on this
machine; reported as absent otherwise).
"""

import json
import sys
import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.utils import timezone

from ircore.bench import Context, Measurement, Section, register
from ircore.models import Service, Severity

from .alerts import bench_live
from .alerts.models import Alert, Integration
from .alerts.services import integration_create
from .models import Incident

OPEN_SMALL, OPEN_LARGE = 10, 10_000
BATCH = 1_000
SINGLE_EVENTS = 400
BATCHES = 4
CLIENTS = 4
TARGET_PER_SECOND, TARGET_MEDIAN_MS, TARGET_BATCH_RATIO = 100, 10.0, 5.0


def _event(token: str, key: str, summary: str = "Error rate above 5%") -> dict:
    return {
        "routing_key": token,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": {"summary": summary, "source": "bench-1", "severity": "error"},
    }


def _batch(tag: str, size: int) -> dict:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "HighLatency", "instance": f"{tag}-{n}", "severity": "error"},
            "annotations": {"summary": f"Latency high on {tag}-{n}"},
            "startsAt": "2025-03-14T08:55:45.828Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.bench:9090/graph",
            "fingerprint": f"{tag}-{n:06d}",
        }
        for n in range(size)
    ]
    return {
        "version": "4",
        "status": "firing",
        "receiver": "bench",
        "groupKey": f"{{}}:{{tag={tag}}}",
        "truncatedAlerts": 0,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.bench:9093",
        "alerts": alerts,
    }


def _integration(name: str, kind: str, service: Service, severity: Severity):
    integration, token = integration_create(
        name=name, kind=kind, service=service, severity=severity, user=None
    )
    return integration, token


def setup_alerts(ctx: Context) -> None:
    # The incidents section's levels when it ran first; a level of its own otherwise (a
    # key and rank no other section uses).
    severity = Severity.objects.order_by("rank").first() or Severity.objects.create(
        key="BENCH-ALERTS", rank=30000, name="Bench alerts"
    )
    service = Service.objects.create(name="Bench alerts", slug="bench-alerts")
    made = {}
    for key, kind in (
        ("events", "events"),
        ("am", "alertmanager"),
        ("live_events", "events"),
        ("live_am", "alertmanager"),
    ):
        made[key] = _integration(f"bench {key}", kind, service, severity)
    # Every delivery joins the open incident it finds (a grouping window longer than the
    # run): the rows measure ingestion into an incident, not a declaration per hit.
    Integration.objects.filter(pk__in=[i.pk for i, _ in made.values()]).update(
        group_window=timedelta(days=1)
    )
    ctx.data["alerts"] = {
        "events": Integration.objects.get(pk=made["events"][0].pk),
        "events_token": made["events"][1],
        "am_token": made["am"][1],
        "live_events_token": made["live_events"][1],
        "live_am_token": made["live_am"][1],
        "live_am": made["live_am"][0],
        "integrations": [i.pk for i, _ in made.values()],
        "severity": severity,
        "service": service,
        "incident": None,
        "counter": 0,
        "open": 0,
        "batch": min(BATCH, ctx.small),
    }


def _target(ctx: Context) -> Incident:
    """The open incident the measured and live alerts join: one the incidents section made
    (so this section adds no incident to its counts), else one declared through the view."""
    data = ctx.data["alerts"]
    found = Incident.objects.filter(open_rank=1, affected__isnull=False).order_by("pk").first()
    if found is not None:
        service = found.affected.select_related("service").first().service
        Integration.objects.filter(pk__in=data["integrations"]).update(service=service)
        data["events"].service = data["service"] = service
        return found
    response = Client().post(
        "/v2/enqueue",
        json.dumps(_event(data["events_token"], "bench-declare")),
        content_type="application/json",
    )
    if response.status_code != 202:
        raise RuntimeError(f"bench: the first event answered {response.status_code}")
    return Incident.objects.filter(alerts__integration=data["events"]).get()


def grow_alerts(ctx: Context, start: int, stop: int) -> None:
    data = ctx.data["alerts"]
    if data["incident"] is None:
        data["incident"] = _target(ctx)
    wanted = min(OPEN_SMALL, ctx.small) if start == 0 else min(OPEN_LARGE, ctx.large)
    now = timezone.now()
    rows = [
        Alert(
            integration=data["events"],
            dedup_key="bench-first" if n == 0 else f"open-{n:07d}",
            summary=f"Open alert {n}",
            service=data["service"],
            severity=data["severity"],
            incident=data["incident"],
            received_at=now,
            last_received_at=now,
        )
        for n in range(data["open"], wanted)
    ]
    Alert.objects.bulk_create(rows, batch_size=2000)
    data["open"] = max(wanted, data["open"])
    if start > 0:
        data["live"] = live_figures(ctx)
        sys.stderr.write(render_live(data["live"]) + "\n")


def _post(client: Client, url: str, body: dict, token: str | None = None) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client.post(url, json.dumps(body), content_type="application/json", **headers)
    if response.status_code not in (200, 202):
        raise RuntimeError(f"bench: POST {url} answered {response.status_code}")


def alert_measurements(ctx: Context) -> list[Measurement]:
    data = ctx.data["alerts"]
    client = Client()

    def new_event() -> None:
        data["counter"] += 1
        _post(client, "/v2/enqueue", _event(data["events_token"], f"new-{data['counter']}"))

    def repeat_event() -> None:
        _post(client, "/v2/enqueue", _event(data["events_token"], "bench-first"))

    def batch() -> None:
        data["counter"] += 1
        body = _batch(f"b{data['counter']}", data["batch"])
        _post(client, "/api/v1/alerts/alertmanager/", body, data["am_token"])

    def bare_insert() -> None:
        data["counter"] += 1
        Alert.objects.bulk_create(_bare_rows(data, f"bare{data['counter']}", data["batch"]))

    size = data["batch"]
    return [
        Measurement("events v2: one new event (view)", call=new_event),
        Measurement("events v2: one repeat (view)", call=repeat_event),
        Measurement(f"alertmanager: {size:,} new alerts in one post (view)", call=batch),
        Measurement(f"bare bulk insert of the same {size:,} alert rows", call=bare_insert),
    ]


def _bare_rows(data: dict, tag: str, size: int, integration=None) -> list[Alert]:
    """The rows a batch stores, as one bulk insert with nothing else around it."""
    batch = _batch(tag, size)
    now = timezone.now()
    return [
        Alert(
            integration=integration or data["events"],
            dedup_key=a["fingerprint"],
            fingerprint=a["fingerprint"],
            summary=a["annotations"]["summary"],
            service=data["service"],
            severity=data["severity"],
            labels=a["labels"],
            annotations=a["annotations"],
            links=[{"href": a["generatorURL"], "text": "Source"}],
            raw={**a, "group": {k: v for k, v in batch.items() if k != "alerts"}},
            received_at=now,
            last_received_at=now,
        )
        for a in batch["alerts"]
    ]


def live_figures(ctx: Context) -> dict[str, Any]:
    """Single events (as fast as the clients can, then at a steady ``TARGET_PER_SECOND``)
    and batches through the workers, and the bare insert of the same rows."""
    data = ctx.data["alerts"]
    sqlite = connection.vendor == "sqlite"
    clients = 1 if sqlite else CLIENTS
    singles = min(SINGLE_EVENTS, max(ctx.small, 10))
    size = data["batch"]
    json_headers = {"Content-Type": "application/json"}

    def events(tag: str) -> list[tuple[str, bytes, dict]]:
        token = data["live_events_token"]
        return [
            ("/v2/enqueue", json.dumps(_event(token, f"{tag}-{n}")).encode(), json_headers)
            for n in range(singles)
        ]

    am_headers = {**json_headers, "Authorization": f"Bearer {data['live_am_token']}"}
    batches = [
        ("/api/v1/alerts/alertmanager/", json.dumps(_batch(f"live{n}", size)).encode(), am_headers)
        for n in range(BATCHES)
    ]
    workers = bench_live.Workers(clients)
    try:
        bench_live.clients(
            workers.port, events("warm")[: clients * 2], clients
        )  # connect, first imports
        workers.take_times(clients * 2)
        backends = workers.backends()
        cpu_before = bench_live.cpu_seconds(workers.pids), bench_live.cpu_seconds(backends)
        single_seconds = bench_live.clients(workers.port, events("live"), clients)
        full_times, full_cpu = workers.take_times(singles)
        cpu_after = bench_live.cpu_seconds(workers.pids), bench_live.cpu_seconds(backends)
        steady_seconds = bench_live.clients(
            workers.port, events("steady"), clients, TARGET_PER_SECOND
        )
        steady_times, steady_cpu = workers.take_times(singles)
        batch_seconds = bench_live.clients(workers.port, batches, clients)
        workers.take_times(BATCHES)
    finally:
        workers.stop()
    per_event = [
        None if after is None or before is None else (after - before) / singles * 1000
        for before, after in zip(cpu_before, cpu_after, strict=True)
    ]
    if not backends:
        per_event[1] = None
    rows = [
        row
        for n in range(BATCHES)
        for row in _bare_rows(data, f"livebare{n}", size, integration=data["live_am"])
    ]
    began = time.perf_counter()
    for n in range(BATCHES):
        Alert.objects.bulk_create(rows[n * size : (n + 1) * size])
    bare_seconds = time.perf_counter() - began
    alerts = BATCHES * size
    return {
        "vendor": connection.vendor,
        "clients": clients,
        "singles": singles,
        "single_per_second": singles / single_seconds,
        "single_median_ms": bench_live.ms(steady_times),
        "steady_per_second": singles / steady_seconds,
        "steady_p95_ms": bench_live.ms(steady_times, 0.95),
        "full_median_ms": bench_live.ms(full_times),
        "handler_cpu_median_ms": bench_live.ms(steady_cpu + full_cpu),
        "worker_cpu_per_event_ms": per_event[0],
        "database_cpu_per_event_ms": per_event[1],
        "batch_size": size,
        "batches": BATCHES,
        "batch_per_second": alerts / batch_seconds,
        "bare_per_second": alerts / bare_seconds,
        "batch_ratio": batch_seconds / bare_seconds,
    }


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _cpu(f: dict[str, Any]) -> str:
    """What the events cost in CPU, which a busy machine does not inflate as it does wall
    time: the handler's median, and the flat-out run's total per event."""
    parts = [f"median {f['handler_cpu_median_ms']:.1f} ms in the handler (worker process)"]
    worker, database = f.get("worker_cpu_per_event_ms"), f.get("database_cpu_per_event_ms")
    if worker is not None:
        whole = f"; flat out, in all: worker {worker:.1f} ms"
        if database is not None:
            whole += f" + PostgreSQL backend {database:.1f} ms = {worker + database:.1f} ms"
        parts.append(whole)
    return "".join(parts)


def render_live(f: dict[str, Any]) -> str:
    note = "; SQLite: one client, the targets are for PostgreSQL" if f["vendor"] == "sqlite" else ""
    per_second, median, ratio = f["single_per_second"], f["single_median_ms"], f["batch_ratio"]
    steady = ""
    if "steady_per_second" in f:
        steady = (
            f" (paced at {TARGET_PER_SECOND}/s: {f['steady_per_second']:,.0f} events/s reached, "
            f"p95 {f['steady_p95_ms']:.1f} ms; flat out: median {f['full_median_ms']:.1f} ms)"
        )
    return "\n".join(
        [
            f"[alerts] ingestion through a live server ({f['vendor']}, {f['clients']} client "
            f"thread(s) in the bench process, {f['clients']} forked single-request worker "
            f"process(es) with persistent database connections{note}):",
            f"  single events (events v2): {f['singles']:,} at {per_second:,.0f} events/s "
            f"(target >= {TARGET_PER_SECOND}: {_met(per_second >= TARGET_PER_SECOND)}) with the "
            f"clients flat out; at a steady {TARGET_PER_SECOND} events/s, median server time "
            f"{median:.1f} ms (target < {TARGET_MEDIAN_MS:.0f} ms: "
            f"{_met(median < TARGET_MEDIAN_MS)}){steady}",
            f"  CPU per single event: {_cpu(f)}",
            f"  Alertmanager batches: {f['batches']} x {f['batch_size']:,} at "
            f"{f['batch_per_second']:,.0f} alerts/s; bare bulk insert of the same rows "
            f"{f['bare_per_second']:,.0f} rows/s; ratio {ratio:.1f}x "
            f"(target <= {TARGET_BATCH_RATIO:.0f}x: {_met(ratio <= TARGET_BATCH_RATIO)})",
            "  (server time: each request inside the WSGI handler, from the parsed request to "
            "the response, no network; events/s: wall time of all the posts)",
        ]
    )


register(
    Section(
        name="alerts",
        setup=setup_alerts,
        grow=grow_alerts,
        measurements=alert_measurements,
        models=(Alert, Integration),
    )
)
