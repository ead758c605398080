"""The duration definitions (``postmortems.durations``): per incident and as the SQL
means, which must agree on SQLite and PostgreSQL (averaging datetimes differs natively)."""

from datetime import UTC, datetime, timedelta

import pytest

from incidents.models import Incident
from ircore.models import Severity
from postmortems.durations import (
    DURATIONS,
    TIME_TO_ACKNOWLEDGE,
    TIME_TO_DETECT,
    TIME_TO_RESOLVE,
    mean_seconds,
    time_to_acknowledge,
    time_to_detect,
    time_to_resolve,
)

T = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def make(ref, sev, *, impact=None, detected=None, ack=None, resolved=None):
    return Incident.objects.create(
        reference=ref,
        title=ref,
        severity=sev,
        impact_started_at=impact,
        detected_at=detected,
        declared_at=detected or T,
        acknowledged_at=ack,
        resolved_at=resolved,
    )


@pytest.fixture
def sev(db):
    return Severity.objects.create(key="SEV-1", rank=1, name="Critical")


def test_per_incident_durations(sev):
    # The seeds' example: detected 10:15, resolved 11:10 is 55 minutes.
    incident = make(
        "A",
        sev,
        impact=T,
        detected=T + timedelta(minutes=15),
        ack=T + timedelta(minutes=20, seconds=30),
        resolved=T + timedelta(minutes=70),
    )
    assert time_to_detect(incident) == timedelta(minutes=15)
    assert time_to_acknowledge(incident) == timedelta(minutes=5, seconds=30)
    assert time_to_resolve(incident) == timedelta(minutes=55)


def test_a_missing_time_means_no_duration(sev):
    incident = make("B", sev, detected=T)
    assert time_to_detect(incident) is None
    assert time_to_acknowledge(incident) is None
    assert time_to_resolve(incident) is None


def test_sql_means_over_the_incidents_that_have_both_times(sev):
    # TTD 10 and 20 min; TTA 90.5 s (one incident only); TTR 1 h and 3 h; one without times.
    make(
        "A",
        sev,
        impact=T,
        detected=T + timedelta(minutes=10),
        ack=T + timedelta(minutes=10, seconds=90, microseconds=500_000),
        resolved=T + timedelta(minutes=70),
    )
    make(
        "B",
        sev,
        impact=T,
        detected=T + timedelta(minutes=20),
        resolved=T + timedelta(minutes=200),
    )
    make("C", sev, detected=T)
    means = Incident.objects.aggregate(**{d.mean_key: d.mean() for d in DURATIONS})
    assert mean_seconds(means["mttd"]) == 900.0
    assert mean_seconds(means["mtta"]) == 90.5
    assert mean_seconds(means["mttr"]) == 7200.0
    assert all(isinstance(value, float) for value in means.values())


def test_sql_means_are_null_without_incidents(sev):
    make("C", sev, detected=T)
    means = Incident.objects.aggregate(
        mttd=TIME_TO_DETECT.mean(), mtta=TIME_TO_ACKNOWLEDGE.mean(), mttr=TIME_TO_RESOLVE.mean()
    )
    assert means == {"mttd": None, "mtta": None, "mttr": None}


def test_sql_seconds_per_row_match_the_python_definition(sev):
    incident = make(
        "A", sev, impact=T, detected=T + timedelta(days=40, seconds=1, microseconds=250_017)
    )
    row = Incident.objects.annotate(ttd=TIME_TO_DETECT.seconds()).get(pk=incident.pk)
    # To the microsecond on both backends.
    assert row.ttd == pytest.approx(time_to_detect(incident).total_seconds(), abs=1e-6)


@pytest.mark.parametrize("micros", [999_600, 999_999, 500, 0])
def test_sql_seconds_keep_the_second_whatever_the_fraction(sev, micros):
    # SQLite rounds a whole ISO text to the millisecond: .9996 must not become a second more.
    detected = T + timedelta(seconds=60, microseconds=micros)
    incident = make("A", sev, impact=T + timedelta(microseconds=250_000), detected=detected)
    row = Incident.objects.annotate(ttd=TIME_TO_DETECT.seconds()).get(pk=incident.pk)
    assert row.ttd == pytest.approx(time_to_detect(incident).total_seconds(), abs=1e-6)
