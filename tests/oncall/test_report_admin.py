"""The on-call report page in the admin: who may read it, the range form (a bad range is a
form error), and the CSV download of the same figures. Served here under the on-call admin's
URL as ``ScheduleAdmin.get_urls`` includes it (``oncall.admin.report.report_urls``)."""

import pytest
from django.contrib import admin
from django.urls import include, path

from oncall.admin.report import report_urls
from oncall.report import oncall_report, report_csv

from .test_report import END, START, history  # noqa: F401  (the fixture)

urlpatterns = [
    path("admin/oncall/schedule/", include(report_urls(admin.site))),
    path("admin/", admin.site.urls),
]
URL = "/admin/oncall/schedule/report/"
RANGE = {"start": "2025-03-03", "end": "2025-03-16"}

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def pay(settings):
    settings.ONCALL_WEEKLY_STIPEND = "500"
    settings.ONCALL_PER_INCIDENT = "100"


def test_managers_and_leadership_read_the_figures(client, cast, history):  # noqa: F811
    for person in (cast.manager, cast.leader):
        client.force_login(person)
        response = client.get(URL, RANGE)
        assert response.status_code == 200, person
        report = response.context["report"]
        assert [r.user.username for r in report.people] == ["alice", "bob", "carol"]
        page = response.content.decode()
        assert "168.00" in page and "1273.21 USD" in page


def test_support_and_outsiders_may_not(client, cast):
    client.force_login(cast.support)
    assert client.get(URL, RANGE).status_code == 403
    client.force_login(cast.outsider)
    assert client.get(URL, RANGE).status_code == 302  # to the admin login


def test_a_range_that_ends_before_it_starts_is_a_form_error(client, cast):
    client.force_login(cast.manager)

    response = client.get(URL, {"start": "2025-03-16", "end": "2025-03-03"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"end": ["The range ends before it starts."]}
    assert response.context["report"] is None
    response = client.get(URL, {"start": "2025-03-03", "end": "someday"})
    assert list(response.context["form"].errors) == ["end"]
    response = client.get(URL, {"start": "2024-01-01", "end": "2025-03-03"})
    assert response.context["form"].errors == {"end": ["At most 366 days at a time."]}


def test_the_csv_is_the_same_figures(client, cast, history):  # noqa: F811
    client.force_login(cast.manager)

    response = client.get(URL, {**RANGE, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="oncall-2025-03-03-2025-03-16.csv"' in response["Content-Disposition"]
    assert response.content.decode() == report_csv(oncall_report(start=START, end=END))


def test_without_a_range_it_shows_the_last_four_weeks(client, cast):
    client.force_login(cast.manager)

    response = client.get(URL)

    assert response.status_code == 200
    form = response.context["form"]
    assert (form.cleaned_data["end"] - form.cleaned_data["start"]).days == 27
