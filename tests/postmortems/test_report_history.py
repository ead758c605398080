"""Every figure of the monthly report against a small history computed by hand (March 2025,
UTC), drills left out at every step, and a month without incidents (zeros and nulls).

The history (``history`` fixture; other report tests import it):

=====  ========  ===========  ===========  ======  =====================================
ref    sev       type         services     when    times (TTD / TTA / TTR, seconds)
=====  ========  ===========  ===========  ======  =====================================
J1     SEV-2     degradation  web          Jan 25  -
F1     SEV-2     outage       api          Feb 20  - (the previous month)
M1     SEV-1     outage       api          Mar  5  600 / 600 / 7200 (within both targets)
M2     SEV-1     outage       api, web     Mar 10  1200 / 1800 / 21600 (misses both)
M3     SEV-2     degradation  web          Mar 12  - / 300 / - (within target)
M4     SEV-3     (none)       batch        Mar 31  only detected (23:30)
D1     SEV-1     outage       api          Mar 15  drill: counted nowhere
A1     SEV-1     outage       api          Apr  1  the next month
=====  ========  ===========  ===========  ======  =====================================

SEV-1 targets: acknowledge 15 min, resolve 4 h; SEV-2: 30 min, 8 h; SEV-3, SEV-4: none.
"""

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comms.models import UpdateDue
from incidents.models import Incident, IncidentService
from ircore.models import IncidentType, Service, Severity, Team
from oncall.models import Page
from postmortems.models import ActionItem, CostAssessment, Drill, Postmortem
from postmortems.reports.build import build_report
from postmortems.reports.periods import month, parse_month

MARCH = month(2025, 3)
NUMBERS = itertools.count(1)
NOW = datetime(2025, 4, 15, 12, 0, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


class Maker:
    """Rows of a history, written as they are stored (the reports only read them)."""

    def __init__(self, sev, types, services):
        self.sev, self.types, self.services = sev, types, services

    def incident(self, sev, kind, services, declared, *, drill=False, **times):
        number = next(NUMBERS)
        incident = Incident.objects.create(
            reference=f"INC-T-{number:05d}",
            title=f"Incident {number}",
            severity=self.sev[sev],
            incident_type=self.types.get(kind),
            is_drill=drill,
            declared_at=declared,
            detected_at=times.pop("detected", declared),
            status=Incident.Status.RESOLVED if times.get("resolved") else "investigating",
            **{f"{k}_at": v for k, v in times.items()},
        )
        for entry in services:
            slug, _, status = entry.partition(":")
            IncidentService.objects.create(
                incident=incident, service=self.services[slug], status=status or "degraded"
            )
        return incident


def make_history(sev, types, services, *, copies: int = 1, user=None) -> SimpleNamespace:
    """The table above; ``copies`` > 1 repeats March's rows (for the query-count tests)."""
    make = Maker(sev, types, services)
    h = SimpleNamespace()
    h.j1 = make.incident("SEV-2", "degradation", ["web"], utc(2025, 1, 25, 9))
    h.f1 = make.incident("SEV-2", "outage", ["api"], utc(2025, 2, 20, 10))
    for copy in range(copies):
        shift = timedelta(hours=copy)
        m1 = make.incident(
            "SEV-1",
            "outage",
            ["api:major_outage"],
            utc(2025, 3, 5, 10, 2) + shift,
            impact_started=utc(2025, 3, 5, 9, 50) + shift,
            detected=utc(2025, 3, 5, 10) + shift,
            acknowledged=utc(2025, 3, 5, 10, 10) + shift,
            resolved=utc(2025, 3, 5, 12) + shift,
        )
        m2 = make.incident(
            "SEV-1",
            "outage",
            ["api:major_outage", "web:partial_outage"],
            utc(2025, 3, 10, 8, 21) + shift,
            impact_started=utc(2025, 3, 10, 8) + shift,
            detected=utc(2025, 3, 10, 8, 20) + shift,
            acknowledged=utc(2025, 3, 10, 8, 50) + shift,
            resolved=utc(2025, 3, 10, 14, 20) + shift,
        )
        m3 = make.incident(
            "SEV-2",
            "degradation",
            ["web"],
            utc(2025, 3, 12, 12) + shift,
            acknowledged=utc(2025, 3, 12, 12, 5) + shift,
        )
        m4 = make.incident("SEV-3", None, ["batch"], utc(2025, 3, 31, 23, 30))
        if copy == 0:
            h.m1, h.m2, h.m3, h.m4 = m1, m2, m3, m4
    h.d1 = make.incident(
        "SEV-1",
        "outage",
        ["api:major_outage"],
        utc(2025, 3, 15, 9),
        drill=True,
        impact_started=utc(2025, 3, 15, 8),
        acknowledged=utc(2025, 3, 15, 9, 1),
        resolved=utc(2025, 3, 15, 9, 30),
    )
    h.a1 = make.incident("SEV-1", "outage", ["api"], utc(2025, 4, 1, 0, 30))

    # Cost: M1 + M2 = 1250.75; the drill's and February's are not March's.
    for incident, total in ((h.m1, "1000.50"), (h.m2, "250.25"), (h.d1, "999"), (h.f1, "100")):
        CostAssessment.objects.create(incident=incident, total=Decimal(total))

    # Postmortems due in March: M1's (on time), M2's (late), F1's (due 2 March, unpublished);
    # the drill's is left out, M3's is due in April.
    def postmortem(incident, due, published=None):
        return Postmortem.objects.create(
            incident=incident,
            opened_at=due - timedelta(hours=48),
            due_at=due,
            published_at=published,
            status=Postmortem.Status.PUBLISHED if published else Postmortem.Status.DRAFT,
        )

    p1 = postmortem(h.m1, utc(2025, 3, 7, 12), utc(2025, 3, 6, 9))
    postmortem(h.m2, utc(2025, 3, 12, 14, 20), utc(2025, 3, 13, 9))
    postmortem(h.f1, utc(2025, 3, 2, 10))
    p4 = postmortem(h.d1, utc(2025, 3, 17, 9))
    postmortem(h.m3, utc(2025, 4, 2, 12))

    # Action items: two finished in March (one done, one won't do), one in February, one
    # done in April after its due date (finished now: not overdue), one open past due (the
    # overdue one), one open due in April, one of the drill's postmortem and one a drill's
    # assessment lists (both left out).
    def item(title, due, status="open", completed=None, postmortem=p1):
        extra = {}
        if status == "done":
            extra["evidence"] = "Deployed and verified."
        if status == "wont_do":
            extra["wont_do_reason"] = "Superseded by the new design."
        return ActionItem.objects.create(
            postmortem=postmortem,
            title=title,
            kind=ActionItem.Kind.PREVENT,
            due_on=due,
            status=status,
            completed_at=completed,
            **extra,
        )

    item("Add alerting", date(2025, 3, 25), "done", utc(2025, 3, 20, 10))
    item("Rewrite the queue", date(2025, 3, 30), "wont_do", utc(2025, 3, 21, 10))
    item("Old fix", date(2025, 2, 28), "done", utc(2025, 2, 27, 10))
    item("Late but done", date(2025, 3, 10), "done", utc(2025, 4, 2, 10))
    item("Still open", date(2025, 3, 15))
    item("Next month", date(2025, 4, 10))
    item("Drill's item", date(2025, 3, 1), postmortem=p4)
    drill_item = item("From a game day", date(2025, 3, 1), postmortem=None)
    drill = Drill.objects.create(
        title="Game day",
        kind=Drill.Kind.GAME_DAY,
        scenario="DB down",
        scheduled_for=utc(2025, 3, 15, 8),
    )
    drill.action_items.add(drill_item)

    # Cadence: M1 owed two internal updates (one on time, one late) and a customer one
    # (missed); the drill's rows are left out.
    def update(incident, audience, due, outcome):
        UpdateDue.objects.create(
            incident=incident, audience=audience, due_at=due, outcome=outcome, period=minutes(30)
        )

    update(h.m1, "internal", utc(2025, 3, 5, 10, 30), "on_time")
    update(h.m1, "internal", utc(2025, 3, 5, 11), "late")
    update(h.m1, "customers", utc(2025, 3, 5, 10, 30), "missed")
    update(h.d1, "internal", utc(2025, 3, 15, 9, 30), "on_time")

    # Pages: M1 at 10:01 and M4 at 23:45 (out of hours, UTC for a person with no zone); a
    # drill page is left out.
    if user is not None:
        for incident, when in ((h.m1, utc(2025, 3, 5, 10, 1)), (h.m4, utc(2025, 3, 31, 23, 45))):
            Page.objects.create(
                incident=incident,
                step=0,
                recipient=user,
                due_at=when,
                paged_at=when,
                status=Page.Status.SENT,
            )
        Page.objects.create(
            incident=h.d1,
            step=0,
            recipient=user,
            due_at=utc(2025, 3, 15, 9),
            paged_at=utc(2025, 3, 15, 9),
            status=Page.Status.SENT,
            is_drill=True,
        )
    return h


@pytest.fixture
def policy(db):
    sev = {
        "SEV-1": Severity.objects.create(
            key="SEV-1",
            rank=1,
            name="Critical",
            colour="#d32f2f",
            ack_target=minutes(15),
            resolve_target=timedelta(hours=4),
        ),
        "SEV-2": Severity.objects.create(
            key="SEV-2",
            rank=2,
            name="High",
            colour="#f57c00",
            ack_target=minutes(30),
            resolve_target=timedelta(hours=8),
        ),
        "SEV-3": Severity.objects.create(key="SEV-3", rank=3, name="Medium"),
        "SEV-4": Severity.objects.create(key="SEV-4", rank=4, name="Low"),
    }
    types = {
        "outage": IncidentType.objects.create(key="outage", name="Outage"),
        "degradation": IncidentType.objects.create(key="degradation", name="Degradation"),
    }
    payments = Team.objects.create(name="Payments", slug="payments")
    web_team = Team.objects.create(name="Web", slug="web-team")
    services = {
        "api": Service.objects.create(
            name="Payments API", slug="api", team=payments, public=True, public_name="API"
        ),
        "web": Service.objects.create(name="Web app", slug="web", team=web_team, public=True),
        "batch": Service.objects.create(name="Batch", slug="batch"),
    }
    return SimpleNamespace(sev=sev, types=types, services=services)


@pytest.fixture
def paged(django_user_model, db):
    return django_user_model.objects.create_user("pat", email="pat@example.com")


@pytest.fixture
def history(policy, paged):
    return make_history(policy.sev, policy.types, policy.services, user=paged)


@pytest.fixture
def march(history):
    return build_report(MARCH, now=NOW)


def test_totals_and_change(march):
    assert (march.total, march.previous_total, march.drills_excluded) == (4, 1, 1)
    assert march.change == 3 and march.change_percent == 300.0


def test_overall_means(march):
    assert march.mttd == pytest.approx(900)  # (600 + 1200) / 2; M3 and M4 lack impact times
    assert march.mtta == pytest.approx(900)  # (600 + 1800 + 300) / 3
    assert march.mttr == pytest.approx(14400)  # (7200 + 21600) / 2


def test_by_severity_against_targets(march):
    rows = {row.key: row for row in march.by_severity}
    assert list(rows) == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    one = rows["SEV-1"]
    # Means are floats: hence approx.
    assert one.count == 2
    assert (one.mttd, one.mtta, one.mttr) == pytest.approx((900, 1200, 14400))
    assert (one.acknowledged, one.acknowledged_within) == (2, 1)
    assert (one.resolved, one.resolved_within) == (2, 1)
    assert one.mtta_met is False  # 20 min against 15
    assert one.mttr_met is True  # exactly the 4 h target
    two = rows["SEV-2"]
    assert (two.count, two.mttd, two.mttr) == (1, None, None)
    assert two.mtta == pytest.approx(300)
    assert (two.acknowledged_within, two.resolved, two.mttr_met) == (1, 0, None)
    three = rows["SEV-3"]
    assert (three.count, three.mttd, three.mtta, three.mttr, three.mtta_met) == (
        1,
        None,
        None,
        None,
        None,
    )
    assert (rows["SEV-4"].count, rows["SEV-4"].mttr) == (0, None)


def test_top_categories(march):
    assert [(c.key, c.count) for c in march.types] == [
        ("outage", 2),
        ("degradation", 1),
        ("", 1),
    ]
    assert march.types[-1].name == "(no type)"
    assert [(c.key, c.count) for c in march.services] == [("api", 2), ("web", 2), ("batch", 1)]
    assert [(c.key, c.count) for c in march.teams] == [("payments", 2), ("web-team", 2)]


def test_repeats_within_30_days_of_the_same_type_on_the_same_service(march):
    # M1 follows February's outage on api by 13 days, M2 follows M1 by 5; M2 is the first
    # outage on web; M3 follows January's web degradation by 46 days (no repeat); the drill
    # is not in the window.
    assert march.repeat_incidents == 2
    assert [(r.service, r.incident_type, r.count) for r in march.repeats] == [("api", "outage", 2)]


def test_uptime_of_the_public_services_reads_the_status_figures(march):
    # api: M1 major 09:50-12:00 and M2 major 08:00-14:20 (30,600 s); web: M2 partial for
    # 22,800 s at 30% (6,840 s); M3 on web is degraded, which is up; the drill never counts.
    month_seconds = 31 * 86_400
    assert [(u.service, u.name) for u in march.uptime] == [("api", "API"), ("web", "Web app")]
    api, web = (u.percent for u in march.uptime)
    assert api == pytest.approx(100 * (1 - 30_600 / month_seconds))
    assert web == pytest.approx(100 * (1 - 6_840 / month_seconds))


def test_cost_sums_the_months_real_assessments(march):
    assert (march.cost, march.costed) == (Decimal("1250.75"), 2)


def test_postmortems_due_and_on_time(march):
    assert (march.postmortems_due, march.postmortems_on_time, march.postmortems_published) == (
        3,
        1,
        2,
    )


def test_action_items_completed_and_overdue(march):
    assert (march.actions_completed, march.actions_wont_do) == (2, 1)
    assert march.actions_as_of == date(2025, 4, 1)
    assert march.actions_overdue == 1  # "Still open"; the drills' items are left out
    assert [i.title for i in march.completed_items] == ["Rewrite the queue", "Add alerting"]
    assert [i.title for i in march.overdue_items] == ["Still open"]


def test_cadence_kept_reads_the_cadence_figures(march):
    assert march.cadence["internal"] == {"due": 2, "on_time": 1, "late": 1, "missed": 0}
    assert march.cadence["customers"] == {"due": 1, "on_time": 0, "late": 0, "missed": 1}


def test_oncall_load_reuses_the_oncall_figures(march):
    assert (march.oncall.pages, march.oncall.out_of_hours) == (2, 1)
    assert [(row.team.slug, row.pages, row.incidents) for row in march.oncall.teams] == [
        ("payments", 1, 2),
        ("web-team", 0, 2),
    ]


def test_a_month_without_incidents_is_zeros_and_nulls(history):
    june = build_report(parse_month("2025-06"), now=NOW)
    assert (june.total, june.previous_total, june.drills_excluded) == (0, 0, 0)
    assert (june.mttd, june.mtta, june.mttr) == (None, None, None)
    assert [(r.key, r.count, r.mttd, r.mtta, r.mttr) for r in june.by_severity] == [
        (key, 0, None, None, None) for key in ("SEV-1", "SEV-2", "SEV-3", "SEV-4")
    ]
    assert (june.types, june.services, june.teams, june.repeats) == ([], [], [], [])
    assert (june.repeat_incidents, june.cost, june.costed) == (0, Decimal(0), 0)
    assert (june.postmortems_due, june.postmortems_on_time, june.actions_completed) == (0, 0, 0)
    assert june.cadence["internal"]["due"] == 0
    # June has not begun at NOW: nothing observed, no on-call load.
    assert (june.oncall.pages, june.oncall.hours) == (0, 0)


def test_april_counts_the_incident_declared_after_midnight_utc(history):
    april = build_report(month(2025, 4), now=NOW)
    assert (april.total, april.previous_total) == (1, 4)


def test_month_boundaries_follow_the_time_zone_setting(history, settings):
    # M4 was declared 23:30 UTC on 31 March: 01:30 on 1 April in Berlin (CEST from 30 March).
    settings.TIME_ZONE = "Europe/Berlin"
    assert build_report(MARCH, now=NOW).total == 3
    assert build_report(month(2025, 4), now=NOW).total == 2


def _queries(period) -> int:
    with CaptureQueriesContext(connection) as captured:
        build_report(period, now=NOW)
    return len(captured)


def test_the_query_count_does_not_grow_with_the_history(
    policy, paged, django_assert_max_num_queries
):
    make_history(policy.sev, policy.types, policy.services, user=paged)
    small = _queries(MARCH)
    make_history(policy.sev, policy.types, policy.services, copies=4, user=paged)
    with django_assert_max_num_queries(small):
        assert build_report(MARCH, now=NOW).total == 4 + 4 * 4
    assert _queries(MARCH) == small
