"""``GET /metrics``: the tool's own health in the Prometheus exposition format, so the people
who run it can alert on it with the same Alertmanager that pages through it.

A custom collector (``prometheus_client``) reads the database on each scrape, in a fixed
number of queries (one aggregate per family group, whatever the history's size); nothing is
kept in process memory, so every web process answers the same. Counters count since the
beginning (plain counts, no per-row arithmetic); the acknowledgement latency is a gauge
histogram over the last 30 days' incidents (an index range: a duration per row is costly).
Incident figures leave drills out (``Incident.objects.real()``); the machinery (alerts,
deliveries, the escalation clock) counts everything it has to do.

Protected by a bearer token (``Authorization: Bearer <METRICS_TOKEN>``), compared in
constant time. With ``METRICS_TOKEN`` unset the endpoint refuses everyone and says why.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q, Sum
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
)
from prometheus_client.exposition import choose_encoder

from comms.models import UpdateDue
from incidents.alerts.models import Alert
from incidents.models import Incident
from ircore.models import Delivery, Severity
from oncall.health import escalation_lateness
from oncall.models import Page, PageAttempt

from .durations import TIME_TO_ACKNOWLEDGE
from .models import ActionItem, Postmortem

PREFIX = "incident_response"
# Acknowledgement latency buckets (seconds): 1, 5, 15, 30 min, 1, 2, 4 h.
ACK_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400)
ACK_WINDOW = timedelta(days=30)


class DatabaseCollector:
    """Every family, read fresh on each scrape."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now

    def collect(self) -> Iterator:
        now = self._now or timezone.now()
        yield from self._incidents()
        yield self._acknowledgement_latency(now)
        yield from self._alerts()
        yield from self._pages()
        yield from self._clock(now)
        yield from self._deliveries(now)
        yield from self._follow_up(now)

    def _incidents(self) -> Iterator:
        keys = dict(Severity.objects.values_list("pk", "key"))
        rows = (
            Incident.objects.real()
            .values("severity")
            .annotate(total=Count("pk"), open=Count("pk", filter=Q(open_rank=1)))
            .order_by()
        )
        counts = {row["severity"]: row for row in rows}
        open_ = GaugeMetricFamily(
            f"{PREFIX}_incidents_open",
            "Open incidents (not resolved), drills excluded.",
            labels=["severity"],
        )
        declared = CounterMetricFamily(
            f"{PREFIX}_incidents_declared",
            "Incidents declared, drills excluded.",
            labels=["severity"],
        )
        for pk, key in sorted(keys.items(), key=lambda item: item[1]):
            row = counts.get(pk, {"total": 0, "open": 0})
            open_.add_metric([key], row["open"])
            declared.add_metric([key], row["total"])
        yield open_
        yield declared

    def _acknowledgement_latency(self, now: datetime) -> GaugeHistogramMetricFamily:
        """Time to acknowledge (acknowledged - detected) of the real incidents declared in the
        last ``ACK_WINDOW``: a gauge histogram (buckets may fall as incidents leave the
        window), so a scrape reads an index range of recent incidents, never the history."""
        row = (
            Incident.objects.real()
            .filter(declared_at__gte=now - ACK_WINDOW)
            .annotate(ack_s=TIME_TO_ACKNOWLEDGE.seconds())
            .aggregate(
                count=Count("ack_s"),
                sum=Sum("ack_s"),
                **{f"le_{b}": Count("pk", filter=Q(ack_s__lte=b)) for b in ACK_BUCKETS},
            )
        )
        buckets = [(str(float(b)), row[f"le_{b}"]) for b in ACK_BUCKETS]
        buckets.append(("+Inf", row["count"]))
        return GaugeHistogramMetricFamily(
            f"{PREFIX}_acknowledgement_latency_seconds",
            "Time to acknowledge (acknowledged - detected) of the real incidents declared in "
            f"the last {ACK_WINDOW.days} days.",
            buckets=buckets,
            gsum_value=row["sum"] or 0.0,
        )

    def _alerts(self) -> Iterator:
        row = Alert.objects.aggregate(
            alerts=Count("pk"),
            repeats=Sum("repeat_count"),
            firing=Count("pk", filter=Q(status=Alert.Status.FIRING)),
        )
        repeats = row["repeats"] or 0
        yield CounterMetricFamily(
            f"{PREFIX}_alerts_received",
            "Alert arrivals (every post, repeats included).",
            value=row["alerts"] + repeats,
        )
        yield CounterMetricFamily(
            f"{PREFIX}_alerts_deduplicated",
            "Alert arrivals folded into an alert already firing (deduplicated).",
            value=repeats,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_alerts_firing", "Alerts firing now.", value=row["firing"]
        )

    def _pages(self) -> Iterator:
        row = Page.objects.filter(is_drill=False).aggregate(
            sent=Count("pk", filter=Q(paged_at__isnull=False)),
            failed=Count("pk", filter=Q(status=Page.Status.FAILED)),
        )
        messages = PageAttempt.objects.filter(page__is_drill=False).aggregate(
            sent=Count("pk", filter=Q(delivery__status=Delivery.Status.SENT)),
            failed=Count("pk", filter=Q(delivery__status=Delivery.Status.FAILED)),
        )
        yield CounterMetricFamily(
            f"{PREFIX}_pages_sent", "Pages sent (drills excluded).", value=row["sent"]
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_pages_failed",
            "Pages whose delivery failed for good and that no later message reached.",
            value=row["failed"],
        )
        family = CounterMetricFamily(
            f"{PREFIX}_page_messages",
            "Messages of pages along people's notification rules, by their delivery's fate.",
            labels=["result"],
        )
        family.add_metric(["sent"], messages["sent"])
        family.add_metric(["failed"], messages["failed"])
        yield family

    def _clock(self, now: datetime) -> Iterator:
        lateness = escalation_lateness(now=now)
        yield GaugeMetricFamily(
            f"{PREFIX}_escalation_lag_seconds",
            "How late the escalation engine is: age of the oldest escalation step due.",
            value=lateness["late_seconds"],
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_escalations_due", "Escalation steps due now.", value=lateness["due"]
        )

    def _deliveries(self, now: datetime) -> Iterator:
        S = Delivery.Status
        row = Delivery.objects.aggregate(
            queued=Count("pk", filter=Q(status=S.QUEUED)),
            retrying=Count("pk", filter=Q(status=S.RETRYING)),
            failed=Count("pk", filter=Q(status=S.FAILED)),
            oldest_due=Min(
                "next_attempt_at",
                filter=Q(status__in=[S.QUEUED, S.RETRYING], next_attempt_at__lte=now),
            ),
        )
        family = GaugeMetricFamily(
            f"{PREFIX}_deliveries_pending", "Notifications not yet sent.", labels=["status"]
        )
        family.add_metric(["queued"], row["queued"])
        family.add_metric(["retrying"], row["retrying"])
        yield family
        yield CounterMetricFamily(
            f"{PREFIX}_deliveries_failed",
            "Notifications that failed for good (attempts ran out or no target).",
            value=row["failed"],
        )
        oldest = row["oldest_due"]
        yield GaugeMetricFamily(
            f"{PREFIX}_delivery_lag_seconds",
            "Age of the oldest notification due and not sent (0 when none).",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )

    def _follow_up(self, now: datetime) -> Iterator:
        real = Incident.objects.real()
        rows = (
            UpdateDue.objects.overdue(now)
            .filter(incident__in=real.values("pk"))
            .values("audience")
            .annotate(n=Count("pk"))
            .order_by()
        )
        updates = GaugeMetricFamily(
            f"{PREFIX}_updates_overdue",
            "Status updates owed and past due (drills excluded).",
            labels=["audience"],
        )
        found = {row["audience"]: row["n"] for row in rows}
        for audience in sorted({"internal", "customers", *found}):
            updates.add_metric([audience], found.get(audience, 0))
        yield updates
        yield GaugeMetricFamily(
            f"{PREFIX}_postmortems_overdue",
            "Postmortems past their deadline and not published (drills excluded).",
            value=Postmortem.objects.real().overdue(now).count(),
        )
        today = timezone.localdate(now)
        yield GaugeMetricFamily(
            f"{PREFIX}_action_items_overdue",
            "Action items unfinished past their due date (drills excluded).",
            value=ActionItem.objects.real().overdue(today).count(),
        )


def exposition(accept: str = "", *, now: datetime | None = None) -> tuple[bytes, str]:
    """The metrics as text, and its content type (OpenMetrics when the scraper asks)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(now=now))
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type


def _refusal(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def token_problem(header: str) -> tuple[int, str] | None:
    """Why an ``Authorization`` header may not read the metrics (None: it may)."""
    expected = getattr(settings, "METRICS_TOKEN", "") or ""
    if not expected:
        return 403, "Metrics are off: the server has no METRICS_TOKEN set."
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return 401, "Send the metrics token as 'Authorization: Bearer <token>'."
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        return 401, "The metrics token is wrong."
    return None


@require_GET
def metrics_view(request) -> HttpResponse:
    problem = token_problem(request.headers.get("Authorization", ""))
    if problem:
        return _refusal(*problem)
    body, content_type = exposition(request.headers.get("Accept", ""))
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
