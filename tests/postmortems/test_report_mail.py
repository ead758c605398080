"""The monthly e-mail to Leadership: the last month's summary and a link, once per month
however many callers (two beats, a retried task), on the 1st and any later tick."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection

from ircore import roles
from ircore.models import Delivery
from postmortems.models import ReportMailing
from postmortems.reports.mail import send_monthly_report
from postmortems.reports.tasks import send_monthly_report_task
from tests.racing import race

from .test_report_history import history, paged, policy  # noqa: F401  (fixtures)

FIRST = datetime(2025, 4, 1, 0, 7, tzinfo=UTC)


@pytest.fixture
def leaders(cast, make_user):
    second = make_user("lena", roles.LEADERSHIP)
    retired = make_user("lars", roles.LEADERSHIP, is_active=False)
    return [cast.leader, second, retired]


def mails():
    return Delivery.objects.filter(topic__startswith="postmortems.report:").order_by("target")


def test_the_first_of_the_month_mails_the_last_month_to_leadership(leaders, history):  # noqa: F811
    mailing = send_monthly_report(now=FIRST)

    assert (mailing.month.isoformat(), mailing.sent_at, mailing.recipients) == (
        "2025-03-01",
        FIRST,
        2,
    )
    sent = list(mails())
    assert [d.target for d in sent] == ["lena@example.com", "leo@example.com"]
    assert {d.subject for d in sent} == {"Incident report for March 2025"}
    body = sent[0].body
    assert "Incidents: 4 (+3 (+300.0%) on February 2025); drills left out: 1" in body
    assert "SEV-1: 2 incidents; MTTA 20 min (target 15 min), MTTR 4 h 00 min" in body
    assert "Postmortems on time: 1 of 3 (33%)" in body
    link = sent[0].payload["link"]
    assert link.endswith("/admin/postmortems/reportmailing/monthly/?month=2025-03")


def test_a_second_caller_sends_nothing(leaders, history):  # noqa: F811
    with time_machine.travel(FIRST, tick=False):
        assert send_monthly_report_task() is True
        assert send_monthly_report_task() is False  # a second beat, the same hour
    with time_machine.travel(datetime(2025, 4, 1, 13, 7, tzinfo=UTC), tick=False):
        assert send_monthly_report_task() is False  # a later tick of the same day
    assert mails().count() == 2
    assert ReportMailing.objects.count() == 1


def test_the_next_month_mails_its_own_report(leaders, policy):  # noqa: F811
    send_monthly_report(now=FIRST)
    send_monthly_report(now=datetime(2025, 5, 1, 0, 7, tzinfo=UTC))
    assert sorted(m.month.isoformat() for m in ReportMailing.objects.all()) == [
        "2025-03-01",
        "2025-04-01",
    ]
    assert mails().count() == 4


def test_a_mailing_without_leaders_is_recorded_and_sends_nothing(policy):  # noqa: F811
    Group.objects.get(name=roles.LEADERSHIP).user_set.clear()
    mailing = send_monthly_report(now=FIRST)
    assert mailing.recipients == 0 and mails().count() == 0
    assert send_monthly_report(now=FIRST) is None


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks; SQLite serialises writers on one file lock",
)
def test_two_beats_at_once_mail_once(transactional_db, cast, make_user):
    make_user("lena", roles.LEADERSHIP)
    results, errors = race([lambda: send_monthly_report(now=FIRST)] * 4)
    assert errors == [None] * 4
    assert sum(r is not None for r in results) == 1
    assert mails().count() == 2
    assert ReportMailing.objects.get().recipients == 2
