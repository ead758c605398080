"""On-call load and pay over a small known history: hours from the rotation (an override
applied, a daylight-saving week), pages and out-of-hours pages on each person's own clock,
incidents per team, drills left out, the pay, and the same figures as CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from incidents.services import incident_declare
from ircore.models import Service, Severity, Team
from oncall import services
from oncall.models import Page
from oncall.report import PayRules, oncall_report, report_csv

from .conftest import T0

PAY = PayRules(Decimal(500), Decimal(100), "USD")
START, END = datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 17, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def history(crew, team, make_layer):
    """Payments: a weekly primary of Alice then Bob from Monday 3 March 2025 09:00 London
    (GMT, so UTC); Carol covers Bob on Wednesday 12 March 10:00-14:00 UTC. Alice is in
    London, Bob in New York (EDT from Sunday 9 March)."""
    primary = make_layer([crew.alice, crew.bob], name="Primary")
    services.override_create(
        layer=primary,
        user=crew.carol,
        start=utc(2025, 3, 12, 10),
        end=utc(2025, 3, 12, 14),
        by=crew.boss,
        now=T0,
    )
    for user, zone in ((crew.alice, "Europe/London"), (crew.bob, "America/New_York")):
        user.profile.time_zone = zone
        user.profile.save()
    sev = Severity.objects.create(key="SEV-1", rank=1, name="Critical")
    api = Service.objects.create(name="Payments API", slug="payments-api", team=team)
    platform = Team.objects.create(name="Platform", slug="platform")
    hooks = Service.objects.create(name="Webhooks", slug="webhooks", team=platform)

    def incident(day, service, *, drill=False, hour=10):
        return incident_declare(
            title="Down",
            severity=sev,
            services=[service],
            is_drill=drill,
            now=utc(2025, 3, day, hour),
        )

    payments = [incident(4, api), incident(5, api), incident(11, api)]
    incident(12, hooks)
    drill = incident(6, api, drill=True)
    incident(20, api)  # after the range

    def page(inc, user, when, step=1, **extra):
        return Page.objects.create(
            incident=inc,
            step=step,
            recipient=user,
            due_at=when,
            paged_at=when,
            status=Page.Status.SENT,
            **extra,
        )

    # Alice (London, GMT): 23:30 is out of hours, 12:00 is not; both about the first incident.
    page(payments[0], crew.alice, utc(2025, 3, 4, 23, 30))
    page(payments[0], crew.alice, utc(2025, 3, 5, 12), step=2)
    page(payments[1], crew.alice, utc(2025, 3, 5, 7, 59))
    # Bob (New York): 03:00 UTC is 23:00 EDT (out of hours); 12:30 UTC is 08:30 EDT, in
    # hours, though it would be 07:30 on the winter clock.
    page(payments[2], crew.bob, utc(2025, 3, 11, 3))
    page(payments[2], crew.bob, utc(2025, 3, 11, 12, 30), step=2)
    # A drill's page, and a page after the range: neither counts.
    page(drill, crew.alice, utc(2025, 3, 6, 23), is_drill=True)
    page(payments[2], crew.carol, utc(2025, 3, 17, 1), step=3)
    return payments


def rows(report):
    people = {
        r.user.username: (r.hours, r.pages, r.out_of_hours, r.incidents, r.stipend, r.overtime)
        for r in report.people
    }
    teams = {r.team.slug: (r.hours, r.pages, r.out_of_hours, r.incidents) for r in report.teams}
    return people, teams


def test_figures_of_a_small_known_history(history):
    report = oncall_report(start=START, end=END, pay=PAY)

    people, teams = rows(report)
    assert people == {
        # 3 March 09:00 to 10 March 09:00: 168 hours, a week's stipend; 3 pages about 2
        # incidents, one at night.
        "alice": (Decimal("168.00"), 3, 2, 2, Decimal("500.00"), Decimal("200.00")),
        # 10 March 09:00 to 17 March 00:00 is 159 hours, 4 of them Carol's: 155.
        "bob": (Decimal("155.00"), 2, 1, 1, Decimal("461.31"), Decimal("100.00")),
        "carol": (Decimal("4.00"), 0, 0, 0, Decimal("11.90"), Decimal("0.00")),
    }
    # Payments: 327 hours, 5 pages (2 at night: Alice's 23:30 and 07:59, Bob's 23:00 EDT is
    # the third), 3 incidents (the drill left out); Platform: one incident, nobody on call.
    assert teams == {
        "payments": (Decimal("327.00"), 5, 3, 3),
        "platform": (Decimal("0.00"), 0, 0, 1),
    }
    assert report.total_pay == Decimal("1273.21")


def test_a_week_with_the_clock_change_is_an_hour_short(crew, schedule, make_layer):
    """London springs forward on Sunday 30 March 2025: the Monday 09:00 hand-offs are 167
    hours apart, and the stipend is 167/168 of a week."""
    make_layer([crew.dave, crew.alice], name="Primary", start_date=datetime(2025, 3, 24).date())

    report = oncall_report(start=utc(2025, 3, 24), end=utc(2025, 4, 1), pay=PAY)

    people, _ = rows(report)
    assert people["dave"][:1] == (Decimal("167.00"),)
    assert people["dave"][4] == Decimal("497.02")
    # Alice from Monday 31 March 09:00 BST (08:00 UTC) to 1 April 00:00 UTC.
    assert people["alice"][:1] == (Decimal("16.00"),)


def test_two_layers_at_once_count_once(crew, make_layer):
    make_layer([crew.alice], name="Primary")
    make_layer([crew.alice], name="Secondary", kind="daily")

    report = oncall_report(start=START, end=START + timedelta(days=2), pay=PAY)

    # From 09:00 on the 3rd to the 5th: 39 hours, not 78.
    assert rows(report)[0]["alice"][0] == Decimal("39.00")


def test_the_csv_holds_the_same_figures(history):
    report = oncall_report(start=START, end=END, pay=PAY)

    lines = list(csv.reader(io.StringIO(report_csv(report))))

    assert lines[0] == ["range", START.isoformat(), END.isoformat()]
    assert lines[1][:4] == ["section", "name", "hours on call", "pages"]
    assert lines[2] == [
        "person",
        "Alice Test",
        "168.00",
        "3",
        "2",
        "2",
        "500.00",
        "200.00",
        "700.00",
        "USD",
    ]
    assert ["team", "Payments", "327.00", "5", "3", "3"] in lines
    assert ["team", "Platform", "0.00", "0", "0", "1"] in lines


def test_a_name_that_looks_like_a_formula_is_not_one(history, crew):
    crew.carol.first_name = "=HYPERLINK(1)"
    crew.carol.save()

    text = report_csv(oncall_report(start=START, end=END, pay=PAY))

    assert "'=HYPERLINK(1) Test" in text


def test_a_range_that_ends_first_is_refused():
    with pytest.raises(ValueError):
        oncall_report(start=END, end=START, pay=PAY)


def test_the_report_costs_the_same_queries_whatever_the_history(
    history, django_assert_max_num_queries
):
    # Layers (5), schedules' teams, pages and incidents by person (2), the time zones in use
    # and the night pages per zone (1 + 2), people, incidents and pages by team (2), the
    # night pages by team per zone (2), teams: 17 with two zones.
    with django_assert_max_num_queries(17):
        oncall_report(start=START, end=END, pay=PAY)
