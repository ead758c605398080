"""The status machine, references and channel names, events after commit, drills and the
concurrency of declarations."""

import itertools
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction
from django.forms.models import model_to_dict

from incidents import services
from incidents.models import TIMESTAMP_ORDER, Incident, ReferenceCounter, TimelineEntry
from incidents.services import TRANSITIONS
from ircore.errors import ConflictError, RuleError
from ircore.models import Service, Severity

from .conftest import T0, at

Status = Incident.Status
STATES = list(Status.values)

# How to bring a fresh incident to each state (the moves are all allowed ones).
PATH_TO = {
    Status.DECLARED: [],
    Status.INVESTIGATING: [Status.INVESTIGATING],
    Status.IDENTIFIED: [Status.IDENTIFIED],
    Status.MONITORING: [Status.MONITORING],
    Status.RESOLVED: [Status.RESOLVED],
    Status.CLOSED: [Status.RESOLVED, Status.CLOSED],
}
ALLOWED = [(a, b) for a, b in itertools.product(STATES, STATES) if b in TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in itertools.product(STATES, STATES) if b not in TRANSITIONS[a]]
MOVE_AT = at(30)


def bring_to(incident, state, user):
    for minute, step in enumerate(PATH_TO[state], start=1):
        services.incident_set_status(incident=incident, status=step, user=user, now=at(minute))
    incident.refresh_from_db()
    assert incident.status == state
    return incident


def times(incident):
    return {f: getattr(incident, f) for f in TIMESTAMP_ORDER}


def test_the_machine_has_the_documented_shape():
    # Spelled out so that a change to the machine is a deliberate one.
    assert (Status.RESOLVED, Status.INVESTIGATING) in ALLOWED  # re-open
    assert (Status.DECLARED, Status.CLOSED) in REFUSED  # closing needs resolving first
    assert TRANSITIONS[Status.CLOSED] == frozenset()
    assert len(ALLOWED) == 15
    assert len(REFUSED) == 36 - 15


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_allowed_move_succeeds_and_stamps_its_times(declare, people, source, target):
    incident = bring_to(declare(), source, people.manager)
    before = times(incident)
    entries = incident.timeline.count()

    moved = services.incident_set_status(
        incident=incident, status=target, user=people.responder, note="checked", now=MOVE_AT
    )

    # The times the move implies, as the lifecycle rules say.
    expected = dict(before)
    if before["acknowledged_at"] is None:
        expected["acknowledged_at"] = MOVE_AT  # leaving declared acknowledges
    if target in (Status.MONITORING, Status.RESOLVED) and before["mitigated_at"] is None:
        expected["mitigated_at"] = MOVE_AT
    if target == Status.RESOLVED:
        expected["resolved_at"] = MOVE_AT
    if target == Status.CLOSED:
        expected["closed_at"] = MOVE_AT
    if (source, target) == (Status.RESOLVED, Status.INVESTIGATING):
        expected["resolved_at"] = None  # re-opened: no longer resolved

    incident.refresh_from_db()
    assert moved.status == incident.status == target
    assert times(incident) == expected
    # Leaving declared acknowledges, which is an acknowledgement entry of its own.
    acknowledged = before["acknowledged_at"] is None
    assert incident.timeline.count() == entries + 1 + acknowledged
    if acknowledged:
        assert incident.timeline.filter(kind=TimelineEntry.Kind.ACKNOWLEDGEMENT).count() == 1
    entry = incident.timeline.last()
    assert entry.kind == TimelineEntry.Kind.STATUS
    assert entry.author == people.responder
    assert entry.occurred_at == MOVE_AT
    assert entry.data == {"from": source, "to": target, "note": "checked"}


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_refused_move_names_allowed_moves_and_changes_nothing(declare, people, source, target):
    incident = bring_to(declare(), source, people.manager)
    row = model_to_dict(Incident.objects.get(pk=incident.pk))
    timeline = list(incident.timeline.values_list("pk", flat=True))
    history = incident.history.count()

    with pytest.raises(ConflictError) as refused:
        services.incident_set_status(
            incident=incident, status=target, user=people.responder, now=MOVE_AT
        )

    assert refused.value.field == "status"
    assert refused.value.status_code == 409
    message = refused.value.message
    if TRANSITIONS[source]:
        for move in TRANSITIONS[source]:
            assert move in message.split("allowed:")[1]
    else:  # closed: the one rule of what a closed incident takes
        assert "is closed; a closed incident takes notes only" in message
    assert model_to_dict(Incident.objects.get(pk=incident.pk)) == row
    assert list(incident.timeline.values_list("pk", flat=True)) == timeline
    assert incident.history.count() == history


def test_unknown_status_is_a_bad_request_not_a_conflict(declare, people):
    incident = declare()
    with pytest.raises(RuleError) as refused:
        services.incident_set_status(incident=incident, status="paused", user=people.manager)
    assert not isinstance(refused.value, ConflictError)
    assert refused.value.field == "status"
    assert "investigating" in refused.value.message


def test_declared_cannot_be_closed_directly(declare, people):
    incident = declare()
    with pytest.raises(ConflictError, match="allowed: investigating, identified, monitoring"):
        services.incident_set_status(incident=incident, status=Status.CLOSED, user=people.manager)
    incident.refresh_from_db()
    assert incident.status == Status.DECLARED
    assert incident.closed_at is None


def test_reopening_clears_resolution_and_a_second_resolution_stamps_anew(declare, people):
    incident = declare()
    services.incident_set_status(incident=incident, status=Status.RESOLVED, user=None, now=at(10))
    assert (incident.resolved_at, incident.mitigated_at) == (at(10), at(10))

    services.incident_set_status(
        incident=incident, status=Status.INVESTIGATING, user=people.manager, now=at(20)
    )
    assert incident.resolved_at is None
    assert incident.mitigated_at == at(10)  # mitigation happened; re-opening does not undo it
    assert incident.is_open
    assert "re-opened" in incident.timeline.last().text

    services.incident_set_status(incident=incident, status=Status.RESOLVED, user=None, now=at(40))
    services.incident_set_status(incident=incident, status=Status.CLOSED, user=None, now=at(50))
    incident.refresh_from_db()
    assert (incident.resolved_at, incident.closed_at) == (at(40), at(50))
    assert incident.mitigated_at == at(10)


def test_acknowledgement_is_stamped_once(declare, people):
    incident = declare()
    services.incident_acknowledge(incident=incident, user=people.responder, now=at(3))
    services.incident_set_status(
        incident=incident, status=Status.INVESTIGATING, user=people.manager, now=at(5)
    )
    services.incident_set_status(
        incident=incident, status=Status.IDENTIFIED, user=people.manager, now=at(9)
    )
    assert incident.acknowledged_at == at(3)
    with pytest.raises(ConflictError) as again:
        services.incident_acknowledge(incident=incident, user=people.manager, now=at(10))
    assert again.value.field == "acknowledged_at"
    assert incident.timeline.filter(kind=TimelineEntry.Kind.ACKNOWLEDGEMENT).count() == 1


def test_resolved_incident_cannot_be_acknowledged(declare, people):
    incident = declare()
    services.incident_set_status(incident=incident, status=Status.RESOLVED, user=None, now=at(1))
    Incident.objects.filter(pk=incident.pk).update(acknowledged_at=None)
    with pytest.raises(ConflictError) as refused:
        services.incident_acknowledge(incident=incident, user=people.manager, now=at(2))
    assert refused.value.field == "status"


def test_status_move_refused_by_chronology_writes_nothing(declare, people):
    # A move dated before the declaration would make time-to-acknowledge negative.
    incident = declare()
    with pytest.raises(RuleError) as refused:
        services.incident_set_status(
            incident=incident, status=Status.INVESTIGATING, user=people.manager, now=at(-5)
        )
    assert refused.value.field == "acknowledged_at"
    incident.refresh_from_db()
    assert incident.status == Status.DECLARED
    assert incident.acknowledged_at is None
    assert incident.timeline.count() == 1


# --- references and channels -----------------------------------------------------------------


def test_references_count_per_day_and_restart_each_day(declare):
    first = declare("First", now=T0)
    second = declare("Second", now=T0 + timedelta(hours=3))
    next_day = declare("Third", now=T0 + timedelta(days=1))
    assert first.reference == "INC-2025-03-14-001"
    assert second.reference == "INC-2025-03-14-002"
    assert next_day.reference == "INC-2025-03-15-001"
    assert dict(ReferenceCounter.objects.values_list("day", "last")) == {
        T0.date(): 2,
        T0.date() + timedelta(days=1): 1,
    }


def test_reference_is_unique_in_the_database(declare):
    incident = declare()
    with pytest.raises(Exception) as clash, transaction.atomic():
        Incident.objects.create(reference=incident.reference, title="x", severity=incident.severity)
    assert "unique" in str(clash.value).lower()


def test_reference_and_channel_use_the_same_utc_day(declare):
    # 21:00 in New York on 1 March is 02:00 UTC on 2 March; both names must agree.
    evening = datetime(2025, 3, 1, 21, 0, tzinfo=ZoneInfo("America/New_York"))
    incident = declare("Late checkout errors", now=evening)
    assert incident.reference == "INC-2025-03-02-001"
    assert incident.channel_name == "#incident-2025-03-02-late-checkout-errors"


def test_channel_name_is_slugged_and_short(declare):
    incident = declare("  Payments API: 5xx on /charge (EU)!  ")
    assert incident.channel_name == "#incident-2025-03-14-payments-api-5xx-on-charge-eu"
    assert incident.title == "Payments API: 5xx on /charge (EU)!"

    long = declare("word " * 39)  # 195 characters, within the title's 200
    assert len(long.channel_name) <= 80
    assert long.channel_name.startswith("#incident-2025-03-14-word-word")
    assert not long.channel_name.endswith("-")

    # A title with nothing to slug still gives a usable channel.
    assert declare("!!!").channel_name == "#incident-2025-03-14-incident"


def test_declaration_records_services_checklist_and_first_entry(declare, catalog, people):
    incident = declare(
        services=[catalog.payments_api, catalog.webhooks, catalog.payments_api],
        summary="Card payments fail with 502",
    )
    assert incident.status == Status.DECLARED
    assert incident.declared_at == incident.detected_at == T0
    assert incident.created_by == people.manager
    assert sorted(incident.affected.values_list("service__slug", flat=True)) == [
        "payments-api",
        "webhooks",
    ]
    assert list(incident.checklist.values_list("text", "severity_key")) == [
        ("Open the incident channel", "SEV-2"),
        ("Page the incident commander", "SEV-2"),
        ("Post a status page update", "SEV-2"),
    ]
    (entry,) = incident.timeline.all()
    assert entry.kind == TimelineEntry.Kind.DECLARED
    assert entry.occurred_at == T0
    assert entry.author == people.manager
    assert entry.data == {
        "severity": "SEV-2",
        "services": ["payments-api", "webhooks"],
        "checklist_items": 3,
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"severity": None}, "severity"),
    ],
)
def test_bad_declaration_is_refused_and_writes_nothing(declare, kwargs, field):
    title = kwargs.pop("title", "Checkout down")
    with pytest.raises(RuleError) as refused:
        declare(title, **kwargs)
    assert refused.value.field == field
    assert not Incident.objects.exists()
    assert not ReferenceCounter.objects.exists()


# --- events after commit ---------------------------------------------------------------------


def test_lifecycle_events_fire_after_commit_with_incident_and_user(
    declare, people, signal_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = declare()
        assert signal_log == []  # nothing is announced before the commit
    assert [(name, kw["incident"].pk, kw["user"]) for name, kw in signal_log] == [
        ("incident_declared", incident.pk, people.manager)
    ]

    signal_log.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_acknowledge(incident=incident, user=people.responder, now=at(2))
        assert signal_log == []
    assert [(n, kw["user"]) for n, kw in signal_log] == [
        ("incident_acknowledged", people.responder)
    ]

    signal_log.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_set_status(
            incident=incident, status=Status.RESOLVED, user=people.certified, now=at(20)
        )
        assert signal_log == []
    assert [n for n, _ in signal_log] == ["incident_status_changed", "incident_resolved"]
    assert signal_log[0][1]["old_status"] == Status.DECLARED
    assert signal_log[0][1]["new_status"] == Status.RESOLVED
    assert all(kw["user"] == people.certified for _, kw in signal_log)
    assert all(kw["incident"].resolved_at == at(20) for _, kw in signal_log)

    signal_log.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_set_status(
            incident=incident, status=Status.CLOSED, user=people.manager, now=at(60)
        )
    assert [n for n, _ in signal_log] == ["incident_status_changed", "incident_closed"]


def test_leaving_declared_also_announces_the_acknowledgement(
    declare, people, signal_log, django_capture_on_commit_callbacks
):
    incident = declare()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_set_status(
            incident=incident, status=Status.INVESTIGATING, user=people.responder, now=at(4)
        )
    assert [n for n, _ in signal_log] == ["incident_acknowledged", "incident_status_changed"]


def test_no_event_when_the_transaction_rolls_back(
    declare, people, signal_log, django_capture_on_commit_callbacks
):
    class Boom(Exception):
        pass

    incident = declare()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        declare("Rolled back")
        services.incident_set_status(
            incident=incident, status=Status.RESOLVED, user=people.manager, now=at(5)
        )
        raise Boom
    assert callbacks == []
    assert signal_log == []
    assert Incident.objects.count() == 1
    incident.refresh_from_db()
    assert incident.status == Status.DECLARED


def test_a_refused_move_announces_nothing(
    declare, people, signal_log, django_capture_on_commit_callbacks
):
    incident = declare()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ConflictError),
    ):
        services.incident_set_status(incident=incident, status=Status.CLOSED, user=people.manager)
    assert callbacks == []
    assert signal_log == []


# --- drills ----------------------------------------------------------------------------------


def test_drills_are_kept_out_of_real_incidents(declare):
    real = declare("Real outage")
    drill = declare("Game day: database failover", is_drill=True)
    assert list(Incident.objects.real()) == [real]
    assert set(Incident.objects.all()) == {real, drill}
    assert "(drill)" in drill.timeline.get().text
    assert set(Incident.objects.real().open()) == {real}


# --- concurrency -----------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks; SQLite serialises writers on one file lock, "
    "so two threads declaring at once prove nothing there",
)
def test_concurrent_declarations_get_distinct_references(transactional_db):
    severity = Severity.objects.create(key="SEV-1", rank=1, name="Critical")
    service = Service.objects.create(name="Payments API", slug="payments-api")
    start = threading.Barrier(4)
    references, errors = [], []

    def declare_one(n):
        try:
            start.wait(timeout=10)
            incident = services.incident_declare(
                title=f"Concurrent {n}",
                severity=severity,
                services=[service],
                now=T0 + timedelta(seconds=n),
            )
            references.append(incident.reference)
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()  # each thread's own connection

    threads = [threading.Thread(target=declare_one, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(references) == [f"INC-2025-03-14-00{n}" for n in range(1, 5)]
    assert ReferenceCounter.objects.get(day=T0.date()).last == 4


def test_an_incident_links_to_its_page(declare, admin_client):
    incident = declare()
    assert incident.get_absolute_url() == f"/admin/incidents/incident/{incident.pk}/change/"
    assert admin_client.get(incident.get_absolute_url()).status_code == 200
