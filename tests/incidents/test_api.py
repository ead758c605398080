"""The incidents REST API against the real views, services and database.

The clock is frozen at ``T0`` (2026-11-22 09:00 UTC); every request runs as a real user
logged in by session, or with a real token where the token path is the point.
"""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents import services
from incidents.models import (
    ChecklistItem,
    Incident,
    IncidentService,
    ReferenceCounter,
    RoleAssignment,
    TimelineEntry,
)
from ircore.models import ChecklistTemplateItem, IncidentType, Service, Severity, Team

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
LIST = "/api/v1/incidents/"

CHECKLISTS = {
    "SEV-1": ["Open the incident channel", "Page the IC", "Assign an executive sponsor"],
    "SEV-2": ["Open the incident channel", "Page the IC"],
    "SEV-3": ["Create a ticket"],
}


def url(incident: Incident | str, *rest: str) -> str:
    reference = incident if isinstance(incident, str) else incident.reference
    return f"{LIST}{reference}/" + "".join(f"{part}/" for part in rest)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(db):
    """SEV-1..3 with checklists, an outage and a security type, two teams, three services."""
    sev = {}
    for rank, (key, texts) in enumerate(CHECKLISTS.items(), start=1):
        sev[key] = Severity.objects.create(key=key, rank=rank, name=f"Level {rank}")
        for position, text in enumerate(texts):
            ChecklistTemplateItem.objects.create(severity=sev[key], position=position, text=text)
    payments = Team.objects.create(name="Payments", slug="payments")
    platform = Team.objects.create(name="Platform", slug="platform")
    return SimpleNamespace(
        sev1=sev["SEV-1"],
        sev2=sev["SEV-2"],
        sev3=sev["SEV-3"],
        outage=IncidentType.objects.create(key="outage", name="Outage"),
        security=IncidentType.objects.create(
            key="security",
            name="Security",
            regulatory_notification_hours=72,
            security_checkpoints=True,
        ),
        payments=payments,
        platform=platform,
        api=Service.objects.create(name="Payments API", slug="payments-api", team=payments),
        settlement=Service.objects.create(name="Settlement", slug="settlement", team=payments),
        webhooks=Service.objects.create(name="Webhooks", slug="webhooks", team=platform),
    )


@pytest.fixture
def certified(cast):
    """The responder holds a valid incident commander certification."""
    profile = cast.responder.profile
    profile.ic_certified_on = date(2026, 1, 1)
    profile.save()
    return cast.responder


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def rob(cast, clock):
    """The responder's client."""
    return client_for(cast.responder)


@pytest.fixture
def make(policy, cast, clock):
    """Declare through the service (not the API under test), at ``T0`` unless told."""

    def declare(title="Payments failing", **kwargs):
        kwargs.setdefault("severity", policy.sev2)
        kwargs.setdefault("services", [policy.api])  # an incident has at least one
        kwargs.setdefault("user", cast.manager)
        kwargs.setdefault("now", T0)
        return services.incident_declare(title=title, **kwargs)

    return declare


def counts() -> dict[str, int]:
    """Rows a refused request must leave as they were."""
    return {
        model.__name__: model.objects.count()
        for model in (
            Incident,
            TimelineEntry,
            ChecklistItem,
            IncidentService,
            RoleAssignment,
            ReferenceCounter,
            Incident.history.model,
        )
    }


# --- declare -------------------------------------------------------------------------------


def test_declare_creates_the_incident_with_reference_checklist_and_timeline(rob, policy, cast):
    response = rob.post(
        LIST,
        {
            "title": "Card payments failing",
            "severity": "SEV-2",
            "services": ["payments-api", "settlement"],
            "summary": "Checkout returns 502.",
            "type": "outage",
            "detected_at": (T0 - timedelta(minutes=5)).isoformat(),
            "impact_started_at": (T0 - timedelta(minutes=9)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    body = response.data
    assert body["reference"] == "INC-2026-11-22-001"
    assert response["Location"].endswith("/api/v1/incidents/INC-2026-11-22-001/")
    assert body["severity"]["key"] == "SEV-2"
    assert body["type"] == {"key": "outage", "name": "Outage"}
    assert body["status"] == "declared"
    assert body["drill"] is False
    assert [s["slug"] for s in body["services"]] == ["payments-api", "settlement"]
    assert body["checklist"]["total"] == 2
    assert [item["text"] for item in body["checklist"]["items"]] == CHECKLISTS["SEV-2"]
    assert body["created_by"] == "rob"

    incident = Incident.objects.get(reference="INC-2026-11-22-001")
    assert incident.declared_at == T0
    assert incident.detected_at == T0 - timedelta(minutes=5)
    entry = incident.timeline.get()
    assert entry.kind == TimelineEntry.Kind.DECLARED
    assert entry.author == cast.responder
    assert incident.history.first().history_user == cast.responder

    second = rob.post(
        LIST, {"title": "Again", "severity": "SEV-3", "services": ["payments-api"]}, format="json"
    )
    assert second.data["reference"] == "INC-2026-11-22-002"


def test_declare_unknown_severity_is_400_naming_it_and_writes_nothing(rob, policy):
    before = counts()
    response = rob.post(
        LIST, {"title": "x", "severity": "SEV-9", "services": ["payments-api"]}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {"severity": ["Unknown severity 'SEV-9'."]}
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"services": "x"}, "services", "Expected a list"),
        ({"services": ["payments-api", "nope", "gone"]}, "services", "'nope', 'gone'"),
        ({"detected_at": "yesterday"}, "detected_at", "Datetime has wrong format"),
        ({"drill": "maybe"}, "drill", "valid boolean"),
        ({"type": "nope"}, "type", "Unknown incident type 'nope'."),
        ({"severity": 2}, "severity", "got int"),
        ({"title": ""}, "title", "blank"),
        ({"title": "x" * 201}, "title", "200 characters"),
        ({"status": "resolved"}, "status", "Unknown field"),
        ({"detected_at": (T0 + timedelta(hours=1)).isoformat()}, "detected_at", "future"),
    ],
)
def test_declare_bad_input_is_400_naming_the_field(rob, policy, change, field, reason):
    before = counts()
    body = {
        "title": "Payments failing",
        "severity": "SEV-2",
        "services": ["payments-api"],
        **change,
    }
    response = rob.post(LIST, body, format="json")
    assert response.status_code == 400
    assert field in response.data, response.data
    assert reason in " ".join(map(str, response.data[field]))
    assert counts() == before


def test_declare_missing_fields_and_non_objects_are_400(rob, policy):
    before = counts()
    missing = rob.post(LIST, {}, format="json")
    assert missing.status_code == 400
    assert set(missing.data) == {"title", "severity"}
    assert rob.post(LIST, ["title"], format="json").status_code == 400
    broken = rob.post(LIST, "{not json", content_type="application/json")
    assert broken.status_code == 400
    assert counts() == before


def test_declare_chronology_violation_names_the_field(rob, policy):
    before = counts()
    response = rob.post(
        LIST,
        {
            "title": "Backwards",
            "severity": "SEV-2",
            "services": ["payments-api"],
            "impact_started_at": (T0 - timedelta(minutes=1)).isoformat(),
            "detected_at": (T0 - timedelta(minutes=30)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    # The service names the supplied time at fault (the earlier of the two).
    assert "durations would be negative" in response.data["impact_started_at"][0]
    assert counts() == before


def test_security_incident_shows_the_regulatory_countdown(rob, policy):
    detected = T0 - timedelta(hours=2)
    response = rob.post(
        LIST,
        {
            "title": "Leaked keys",
            "severity": "SEV-1",
            "services": ["payments-api"],
            "type": "security",
            "detected_at": detected.isoformat(),
        },
        format="json",
    )
    regulatory = response.data["regulatory"]
    assert regulatory["required"] is True
    assert regulatory["due_at"] == (detected + timedelta(hours=72)).isoformat().replace(
        "+00:00", "Z"
    )
    assert regulatory["seconds_remaining"] == 70 * 3600
    assert regulatory["overdue"] is False


# --- list ----------------------------------------------------------------------------------


@pytest.fixture
def spread(make, policy, cast):
    """Five incidents on different days, severities, services, types and states."""
    old = make(
        "Old settlement delay",
        severity=policy.sev3,
        services=[policy.settlement],
        now=T0 - timedelta(days=10),
    )
    services.incident_set_status(
        incident=old, status="resolved", user=cast.manager, now=T0 - timedelta(days=9)
    )
    webhooks = make(
        "Webhooks slow",
        severity=policy.sev2,
        services=[policy.webhooks],
        incident_type=policy.outage,
        now=T0 - timedelta(days=3),
    )
    drill = make(
        "Game day",
        severity=policy.sev1,
        services=[policy.api],
        is_drill=True,
        now=T0 - timedelta(days=2),
    )
    leak = make(
        "Leaked keys",
        severity=policy.sev1,
        incident_type=policy.security,
        now=T0 - timedelta(days=1),
    )
    both = make(
        "Checkout down", severity=policy.sev2, services=[policy.api, policy.settlement], now=T0
    )
    return SimpleNamespace(old=old, webhooks=webhooks, drill=drill, leak=leak, both=both)


def refs(response) -> list[str]:
    assert response.status_code == 200, response.data
    return [row["reference"] for row in response.data["results"]]


def test_list_is_newest_first_with_row_fields(rob, spread):
    response = rob.get(LIST)
    assert response.data["count"] == 5
    assert refs(response) == [
        spread.both.reference,
        spread.leak.reference,
        spread.drill.reference,
        spread.webhooks.reference,
        spread.old.reference,
    ]
    row = response.data["results"][0]
    assert row["url"].endswith(url(spread.both))
    assert row["severity"]["key"] == "SEV-2"
    assert [s["slug"] for s in row["services"]] == ["payments-api", "settlement"]
    assert row["services"][0]["status"] == "degraded"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=resolved", ["old"]),
        ("status=resolved&status=declared", ["both", "leak", "drill", "webhooks", "old"]),
        ("severity=SEV-1", ["leak", "drill"]),
        ("severity=SEV-1&severity=SEV-3", ["leak", "drill", "old"]),
        ("service=settlement", ["both", "old"]),
        ("team=payments", ["both", "leak", "drill", "old"]),
        ("team=platform", ["webhooks"]),
        ("type=security", ["leak"]),
        ("drill=true", ["drill"]),
        ("drill=false", ["both", "leak", "webhooks", "old"]),
        ("open=true", ["both", "leak", "drill", "webhooks"]),
        ("open=false", ["old"]),
        ("declared_after=2026-11-19T09:00:00Z", ["both", "leak", "drill", "webhooks"]),
        ("declared_before=2026-11-20T09:00:00Z", ["webhooks", "old"]),
        (
            "declared_after=2026-11-19T00:00:00Z&declared_before=2026-11-21T00:00:00Z",
            ["drill", "webhooks"],
        ),
        ("ordering=severity", ["leak", "drill", "both", "webhooks", "old"]),
        ("ordering=-reference", ["both", "leak", "drill", "webhooks", "old"]),
        ("ordering=declared_at", ["old", "webhooks", "drill", "leak", "both"]),
        ("ordering=-severity,declared_at", ["old", "webhooks", "both", "drill", "leak"]),
    ],
)
def test_list_filters(rob, spread, query, expected):
    assert refs(rob.get(f"{LIST}?{query}")) == [getattr(spread, n).reference for n in expected]


@pytest.mark.parametrize(
    "query",
    [
        "severity=SEV-9",
        "service=nope",
        "team=nope",
        "type=nope",
        "status=done",
        "declared_after=soon",
        "ordering=colour",
        "drill=perhaps",
    ],
)
def test_list_unknown_filter_values_are_400_naming_the_parameter(rob, spread, query):
    response = rob.get(f"{LIST}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.data


def test_list_paginates(rob, spread):
    first = rob.get(f"{LIST}?page_size=2")
    assert first.data["count"] == 5
    assert len(first.data["results"]) == 2
    assert first.data["previous"] is None
    second = rob.get(first.data["next"])
    third = rob.get(second.data["next"])
    assert third.data["next"] is None
    seen = refs(first) + refs(second) + refs(third)
    assert len(set(seen)) == 5
    assert rob.get(f"{LIST}?page=9").status_code == 404


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_list_costs_the_same_queries_for_1_or_50_incidents(
    make, policy, certified, cast, django_assert_max_num_queries
):
    client = client_for(cast.responder)

    def declare_with_roles(n):
        incident = make(f"Incident {n}", services=[policy.api, policy.webhooks])
        services.role_assign(incident=incident, role="ic", user=certified, by=cast.manager)
        return incident

    declare_with_roles(0)
    one = _list_queries(client)
    for n in range(1, 50):
        declare_with_roles(n)
    # session, user, profile (time zone), user and group permissions, count, page,
    # affected services prefetch: nothing per row.
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert response.data["count"] == 50
    assert len(response.data["results"]) == 50
    assert all(row["incident_commander"] == "rob" for row in response.data["results"])
    assert _list_queries(client) == one


# --- detail --------------------------------------------------------------------------------


def test_detail_shows_services_roles_history_checklist_and_moves(make, policy, cast, certified):
    incident = make(services=[policy.api], now=T0 - timedelta(minutes=30))
    services.role_assign(
        incident=incident,
        role="ic",
        user=cast.manager,
        by=cast.manager,
        override_reason="Only one awake",
        now=T0 - timedelta(minutes=20),
    )
    services.role_assign(incident=incident, role="ic", user=certified, by=cast.manager, now=T0)
    item = incident.checklist.first()
    services.checklist_tick(item=item, user=cast.manager, now=T0)

    response = client_for(cast.leader).get(url(incident))
    assert response.status_code == 200
    body = response.data
    assert body["reference"] == incident.reference
    assert body["services"] == [
        {
            "slug": "payments-api",
            "name": "Payments API",
            "status": "degraded",
            "status_display": "Degraded performance",
        }
    ]
    assert body["incident_commander"] == "rob"
    assert [(r["role"], r["user"]) for r in body["roles"]] == [("ic", "rob")]
    assert [(r["user"], r["current"]) for r in body["role_history"]] == [
        ("rob", True),
        ("mia", False),
    ]
    assert body["role_history"][1]["override_reason"] == "Only one awake"
    assert body["checklist"]["done"] == 1
    assert body["checklist"]["total"] == 2
    assert body["checklist"]["percent"] == 50
    assert body["checklist"]["items"][0]["done_by"] == "mia"
    assert body["allowed_moves"] == ["investigating", "identified", "monitoring", "resolved"]
    assert body["regulatory"]["required"] is False
    assert body["timeline_url"].endswith(url(incident, "timeline"))
    for key in ("customers_affected", "financial_impact", "detected_at", "summary"):
        assert key in body


def test_detail_costs_the_same_queries_however_much_it_holds(make, policy, cast, certified):
    small, big = make("Small"), make("Big", severity=policy.sev1, services=[policy.api])
    for role in ("ic", "tech_lead", "comms_lead"):
        services.role_assign(incident=big, role=role, user=certified, by=cast.manager)
    services.role_assign(
        incident=big, role="ic", user=cast.manager, by=cast.manager, override_reason="Hand-over"
    )
    for item in big.checklist.all():
        services.checklist_tick(item=item, user=cast.manager)
    client = client_for(cast.responder)
    sizes = []
    for incident in (small, big):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(incident)).status_code == 200
        sizes.append(len(captured.captured_queries))
    assert sizes[0] == sizes[1]


def test_support_sees_incidents_but_not_roles_checklist_or_timeline(make, cast):
    incident = make()
    support = client_for(cast.support)
    body = support.get(url(incident)).data
    assert body["reference"] == incident.reference
    assert "roles" not in body
    assert "role_history" not in body
    assert "checklist" not in body
    assert support.get(url(incident, "timeline")).status_code == 403


def test_unknown_reference_is_404(rob, policy):
    assert rob.get(url("INC-2026-01-01-999")).status_code == 404
    assert rob.post(url("INC-2026-01-01-999", "acknowledge")).status_code == 404


# --- timeline ------------------------------------------------------------------------------


def test_timeline_is_newest_first_paginated_and_filterable(make, cast, clock):
    incident = make()
    for minute in range(1, 4):
        clock.shift(timedelta(minutes=1))
        services.note_add(incident=incident, kind="note", text=f"note {minute}", user=cast.manager)
    services.note_add(incident=incident, kind="decision", text="Roll back", user=cast.manager)

    leader = client_for(cast.leader)
    page = leader.get(url(incident, "timeline") + "?page_size=2")
    assert page.status_code == 200
    assert page.data["count"] == 5
    assert [e["text"] for e in page.data["results"]] == ["Roll back", "note 3"]
    assert page.data["results"][0]["author"] == "mia"
    last = leader.get(page.data["next"]).data["next"]
    assert leader.get(last).data["results"][0]["kind"] == "declared"

    decisions = leader.get(url(incident, "timeline") + "?kind=decision&kind=declared")
    assert [e["kind"] for e in decisions.data["results"]] == ["decision", "declared"]
    assert leader.get(url(incident, "timeline") + "?kind=gossip").status_code == 400


# --- edit ----------------------------------------------------------------------------------


def test_patch_edits_details_and_impact_and_records_who(rob, make, cast, policy):
    incident = make()
    response = rob.patch(
        url(incident),
        {
            "title": "Card payments failing in EU",
            "type": "outage",
            "customers_affected": 1200,
            "financial_impact": "2500.50",
            "detected_at": (T0 - timedelta(minutes=20)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["title"] == "Card payments failing in EU"
    assert response.data["type"]["key"] == "outage"
    assert response.data["customers_affected"] == 1200
    assert response.data["financial_impact"] == "2500.50"
    incident.refresh_from_db()
    assert incident.detected_at == T0 - timedelta(minutes=20)
    kinds = set(incident.timeline.values_list("kind", flat=True))
    assert {"field", "impact"} <= kinds
    assert incident.history.first().history_user == cast.responder


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"customers_affected": "many"}, "customers_affected", "valid integer"),
        ({"customers_affected": -1}, "customers_affected", "greater than or equal to 0"),
        ({"customers_affected": 2**40}, "customers_affected", "less than or equal"),
        ({"financial_impact": "lots"}, "financial_impact", "valid number"),
        ({"detected_at": "yesterday"}, "detected_at", "wrong format"),
        ({"detected_at": (T0 + timedelta(hours=1)).isoformat()}, "detected_at", "future"),
        ({"declared_at": None}, "declared_at", "cannot be removed"),
        ({"resolved_at": T0.isoformat()}, "resolved_at", "status action"),
        ({"status": "closed"}, "status", "…/status/"),
        ({"severity": "SEV-1"}, "severity", "…/severity/"),
        ({"reference": "INC-1"}, "reference", "Unknown field"),
        ({"type": "nope"}, "type", "Unknown incident type 'nope'."),
        (
            {"impact_started_at": (T0 - timedelta(minutes=1)).isoformat()},
            "impact_started_at",
            "durations would be negative",
        ),
    ],
)
def test_patch_bad_input_is_400_naming_the_field_and_changes_nothing(
    rob, make, body, field, reason
):
    incident = make(detected_at=T0 - timedelta(minutes=5))
    before, row = counts(), Incident.objects.values().get(pk=incident.pk)
    response = rob.patch(url(incident), body, format="json")
    assert response.status_code == 400
    assert field in response.data, response.data
    assert reason in response.data[field][0]
    assert counts() == before
    assert Incident.objects.values().get(pk=incident.pk) == row


def test_put_and_delete_are_not_allowed(make, cast):
    incident = make()
    for user in (cast.responder, cast.manager):
        client = client_for(user)
        assert client.put(url(incident), {"title": "x"}, format="json").status_code == 405
        assert client.delete(url(incident)).status_code == 405
        assert client.delete(LIST).status_code == 405
    assert Incident.objects.filter(pk=incident.pk).exists()


# --- lifecycle actions ---------------------------------------------------------------------


def test_acknowledge_then_again_is_409(rob, make):
    incident = make()
    response = rob.post(url(incident, "acknowledge"))
    assert response.status_code == 200
    assert response.data["acknowledged_at"] == "2026-11-22T09:00:00Z"
    before = counts()
    again = rob.post(url(incident, "acknowledge"))
    assert again.status_code == 409
    assert "already acknowledged" in again.data["acknowledged_at"][0]
    assert counts() == before


def test_status_moves_along_the_lifecycle(rob, make, clock):
    incident = make()
    clock.shift(timedelta(minutes=10))
    response = rob.post(
        url(incident, "status"), {"status": "investigating", "note": "On it"}, format="json"
    )
    assert response.status_code == 200
    assert response.data["status"] == "investigating"
    assert response.data["acknowledged_at"] == "2026-11-22T09:10:00Z"
    clock.shift(timedelta(minutes=10))
    resolved = rob.post(url(incident, "status"), {"status": "resolved"}, format="json")
    assert resolved.data["status"] == "resolved"
    assert resolved.data["allowed_moves"] == ["investigating", "closed"]
    assert incident.timeline.filter(kind="status").count() == 2


def test_refused_status_move_is_409_with_allowed_moves_and_changes_nothing(rob, make):
    incident = make()
    before = counts()
    response = rob.post(url(incident, "status"), {"status": "closed"}, format="json")
    assert response.status_code == 409
    assert response.data["status"] == [
        f"Cannot move {incident.reference} from declared to closed; "
        "allowed: investigating, identified, monitoring, resolved."
    ]
    incident.refresh_from_db()
    assert incident.status == "declared"
    assert incident.closed_at is None
    assert counts() == before

    unknown = rob.post(url(incident, "status"), {"status": "done"}, format="json")
    assert unknown.status_code == 400
    assert "status" in unknown.data
    assert rob.post(url(incident, "status"), {}, format="json").status_code == 400
    assert counts() == before


def test_severity_change_adds_checklist_items_and_needs_a_reason(rob, make):
    incident = make()
    before = counts()
    for body, field in (
        ({"severity": "SEV-1"}, "reason"),
        ({"severity": "SEV-1", "reason": ""}, "reason"),
        ({"severity": "SEV-0", "reason": "worse"}, "severity"),
        ({"severity": "SEV-2", "reason": "same"}, "severity"),  # 409: already SEV-2
    ):
        response = rob.post(url(incident, "severity"), body, format="json")
        assert response.status_code in (400, 409)
        assert field in response.data
    assert counts() == before

    raised = rob.post(
        url(incident, "severity"), {"severity": "SEV-1", "reason": "EU down"}, format="json"
    )
    assert raised.status_code == 200
    assert raised.data["severity"]["key"] == "SEV-1"
    texts = [item["text"] for item in raised.data["checklist"]["items"]]
    assert texts == CHECKLISTS["SEV-1"]


def test_security_checkpoints(rob, make, policy):
    leak = make("Leaked keys", incident_type=policy.security)
    response = rob.post(
        url(leak, "security-checkpoint"), {"checkpoint": "regulator_notified"}, format="json"
    )
    assert response.status_code == 200
    assert response.data["regulatory"]["notified_at"] == "2026-11-22T09:00:00Z"
    assert response.data["regulatory"]["seconds_remaining"] is None
    again = rob.post(
        url(leak, "security-checkpoint"), {"checkpoint": "regulator_notified"}, format="json"
    )
    assert again.status_code == 409

    outage = make("Plain outage")
    before = counts()
    refused = rob.post(
        url(outage, "security-checkpoint"), {"checkpoint": "evidence_preserved"}, format="json"
    )
    assert refused.status_code == 400
    assert "not a security or privacy incident" in refused.data["checkpoint"][0]
    unknown = rob.post(url(leak, "security-checkpoint"), {"checkpoint": "x"}, format="json")
    assert unknown.status_code == 400
    assert counts() == before


# --- roles ---------------------------------------------------------------------------------


def test_role_assign_hand_over_and_relieve(rob, make, cast, certified):
    incident = make()
    assigned = rob.post(url(incident, "roles"), {"role": "ic", "user": "rob"}, format="json")
    assert assigned.status_code == 201, assigned.data
    assert assigned.data["role"] == "ic"
    assert assigned.data["user"] == "rob"
    assert assigned.data["assigned_by"] == "rob"

    lead = rob.post(url(incident, "roles"), {"role": "tech_lead", "user": "mia"}, format="json")
    assert lead.status_code == 201
    detail = rob.get(url(incident)).data
    assert {(r["role"], r["user"]) for r in detail["roles"]} == {
        ("ic", "rob"),
        ("tech_lead", "mia"),
    }

    relieved = rob.post(url(incident, "roles", str(lead.data["id"]), "relieve"))
    assert relieved.status_code == 200
    assert [r["role"] for r in relieved.data["roles"]] == ["ic"]
    assert len(relieved.data["role_history"]) == 2
    again = rob.post(url(incident, "roles", str(lead.data["id"]), "relieve"))
    assert again.status_code == 409
    other = make("Another")
    assert rob.post(url(other, "roles", str(assigned.data["id"]), "relieve")).status_code == 404


def test_role_assign_refusals_name_the_field(rob, make, cast):
    incident = make()
    before = counts()
    for body, field in (
        ({"role": "ic", "user": "zed"}, "user"),  # unknown username
        ({"role": "ic", "user": "sue"}, "user"),  # not certified
        ({"role": "ic", "user": "sue", "override_reason": "night"}, "override_reason"),
        ({"role": "boss", "user": "mia"}, "role"),
        ({"role": "ic"}, "user"),
    ):
        response = rob.post(url(incident, "roles"), body, format="json")
        assert response.status_code == 400, body
        assert field in response.data, response.data
    unknown = rob.post(url(incident, "roles"), {"role": "sme", "user": "zed"}, format="json")
    assert unknown.data == {"user": ["Unknown user 'zed'."]}
    assert counts() == before

    manager = client_for(cast.manager)
    overridden = manager.post(
        url(incident, "roles"),
        {"role": "ic", "user": "sue", "override_reason": "Only one awake"},
        format="json",
    )
    assert overridden.status_code == 201
    assert overridden.data["override_reason"] == "Only one awake"


# --- checklist, notes, services ------------------------------------------------------------


def test_tick_and_untick_checklist_items(rob, make):
    incident = make()
    item = incident.checklist.first()
    ticked = rob.post(url(incident, "checklist", str(item.pk), "tick"))
    assert ticked.status_code == 200
    first = ticked.data["checklist"]["items"][0]
    assert (first["done"], first["done_by"], first["done_at"]) == (
        True,
        "rob",
        "2026-11-22T09:00:00Z",
    )
    assert ticked.data["checklist"]["done"] == 1
    before = counts()
    assert rob.post(url(incident, "checklist", str(item.pk), "tick")).status_code == 409
    assert counts() == before
    unticked = rob.post(
        url(incident, "checklist", str(item.pk), "tick"), {"done": False}, format="json"
    )
    assert unticked.data["checklist"]["done"] == 0
    other = make("Another")
    assert rob.post(url(other, "checklist", str(item.pk), "tick")).status_code == 404
    assert rob.post(url(incident, "checklist", "999999", "tick")).status_code == 404


def test_notes_go_on_the_timeline(rob, make):
    incident = make()
    response = rob.post(
        url(incident, "notes"), {"kind": "hypothesis", "text": "DNS?"}, format="json"
    )
    assert response.status_code == 201
    assert response.data["kind"] == "hypothesis"
    assert response.data["author"] == "rob"
    assert incident.timeline.filter(kind="hypothesis", text="DNS?").exists()
    before = counts()
    for body, field in (
        ({"kind": "rumour", "text": "x"}, "kind"),
        ({"kind": "note", "text": ""}, "text"),
        ({"kind": "note", "text": "   "}, "text"),
        ({"kind": "note"}, "text"),
        ({"kind": "note", "text": "x", "occurred_at": "2030-01-01T00:00:00Z"}, "occurred_at"),
    ):
        refused = rob.post(url(incident, "notes"), body, format="json")
        assert refused.status_code == 400, body
        assert field in refused.data
    assert counts() == before


def test_affected_services_add_change_and_remove(rob, make, policy):
    incident = make(services=[policy.api])
    added = rob.post(
        url(incident, "services"),
        {"service": "webhooks", "status": "partial_outage"},
        format="json",
    )
    assert added.status_code == 200
    assert {s["slug"]: s["status"] for s in added.data["services"]} == {
        "payments-api": "degraded",
        "webhooks": "partial_outage",
    }
    changed = rob.post(
        url(incident, "services"),
        {"service": "webhooks", "status": "major_outage"},
        format="json",
    )
    assert changed.data["services"][1]["status"] == "major_outage"
    removed = rob.delete(url(incident, "services", "webhooks"))
    assert removed.status_code == 200
    assert [s["slug"] for s in removed.data["services"]] == ["payments-api"]

    before = counts()
    for body, field in (
        ({"service": "nope"}, "service"),
        ({"service": "webhooks", "status": "on fire"}, "status"),
        ({"status": "degraded"}, "service"),
    ):
        refused = rob.post(url(incident, "services"), body, format="json")
        assert refused.status_code == 400
        assert field in refused.data
    not_on = rob.delete(url(incident, "services", "settlement"))
    assert not_on.status_code == 400
    assert "not on" in not_on.data["service"][0]
    assert rob.delete(url(incident, "services", "nope")).status_code == 404
    assert counts() == before


# --- permissions ---------------------------------------------------------------------------


def _writes(incident: Incident) -> list[tuple[str, str, dict]]:
    item = incident.checklist.first()
    return [
        ("post", LIST, {"title": "x", "severity": "SEV-2", "services": ["payments-api"]}),
        ("patch", url(incident), {"title": "x"}),
        ("post", url(incident, "acknowledge"), {}),
        ("post", url(incident, "status"), {"status": "investigating"}),
        ("post", url(incident, "severity"), {"severity": "SEV-1", "reason": "x"}),
        ("post", url(incident, "roles"), {"role": "sme", "user": "mia"}),
        ("post", url(incident, "checklist", str(item.pk), "tick"), {}),
        ("post", url(incident, "notes"), {"kind": "note", "text": "x"}),
        ("post", url(incident, "services"), {"service": "webhooks"}),
        ("delete", url(incident, "services", "payments-api"), {}),
        ("post", url(incident, "security-checkpoint"), {"checkpoint": "evidence_preserved"}),
    ]


@pytest.mark.parametrize("who", ["support", "leader", "outsider"])
def test_support_leadership_and_outsiders_cannot_write(make, policy, cast, who):
    incident = make(services=[policy.api], incident_type=policy.security)
    services.role_assign(incident=incident, role="sme", user=cast.responder, by=cast.manager)
    assignment = incident.roles.get()
    client = client_for(getattr(cast, who))
    before = counts()
    requests = [
        *_writes(incident),
        ("post", url(incident, "roles", str(assignment.pk), "relieve"), {}),
    ]
    for method, path, body in requests:
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 403, (who, method, path)
    assert counts() == before

    reads = client.get(LIST).status_code, client.get(url(incident)).status_code
    assert reads == ((403, 403) if who == "outsider" else (200, 200))


def test_anonymous_gets_401_with_a_token_challenge(make):
    incident = make()
    anonymous = APIClient()
    for method, path, body in [("get", LIST, {}), ("get", url(incident), {}), *_writes(incident)]:
        response = getattr(anonymous, method)(path, body, format="json")
        assert response.status_code == 401, (method, path)
        assert response["WWW-Authenticate"] == "Token"
    assert anonymous.put(url(incident), {}, format="json").status_code == 401


def test_responder_can_do_every_write(make, policy, cast, certified):
    incident = make(services=[policy.api], incident_type=policy.security)
    client = client_for(cast.responder)
    for method, path, body in _writes(incident):
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code in (200, 201), (method, path, response.data)
    services.role_assign(incident=incident, role="comms_lead", user=cast.manager, by=cast.manager)
    assignment = incident.roles.get(role="comms_lead")
    relieve = client.post(url(incident, "roles", str(assignment.pk), "relieve"))
    assert relieve.status_code == 200


def test_token_auth_declares_as_the_token_user(policy, cast, clock):
    token = Token.objects.create(user=cast.responder)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(
        LIST,
        {"title": "From a bot", "severity": "SEV-3", "services": ["payments-api"]},
        format="json",
    )
    assert response.status_code == 201
    incident = Incident.objects.get(reference=response.data["reference"])
    assert incident.created_by == cast.responder
    assert incident.history.first().history_user == cast.responder

    client.post(url(incident, "status"), {"status": "investigating"}, format="json")
    latest = incident.history.first()
    assert (latest.status, latest.history_user) == ("investigating", cast.responder)

    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get(LIST).status_code == 401


def test_options_does_not_describe_writes(rob, cast, policy):
    assert rob.options(LIST).status_code == 405
    assert client_for(cast.outsider).options(LIST).status_code == 403


# --- schema --------------------------------------------------------------------------------


def test_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/api/v1/incidents/:",
        "/api/v1/incidents/{reference}/:",
        "/api/v1/incidents/{reference}/status/:",
        "/api/v1/incidents/{reference}/roles/{assignment_id}/relieve/:",
        "/api/v1/incidents/{reference}/checklist/{item_id}/tick/:",
        "/api/v1/incidents/{reference}/timeline/:",
        "/api/v1/severities/{key}/:",
    ):
        assert path in schema
    # Fields shown only to some viewers are still described.
    for field in ("role_history:", "missing_roles:", "checklist:"):
        assert field in schema


def test_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/incidents/{reference}/acknowledge/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_roles_can_be_recorded_after_the_fact(rob, make, certified):
    """Defect 16 through the API: an incident written up later shows its IC while it ran."""
    incident = make(now=T0 - timedelta(hours=3))
    assigned = rob.post(
        url(incident, "roles"),
        {"role": "ic", "user": "rob", "occurred_at": (T0 - timedelta(hours=2)).isoformat()},
        format="json",
    )
    assert assigned.status_code == 201, assigned.data
    relieved = rob.post(
        url(incident, f"roles/{assigned.data['id']}/relieve"),
        {"occurred_at": (T0 - timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert relieved.status_code == 200, relieved.data
    row = RoleAssignment.objects.get(pk=assigned.data["id"])
    assert (row.assigned_at, row.relieved_at) == (T0 - timedelta(hours=2), T0 - timedelta(hours=1))
    too_early = rob.post(
        url(incident, "roles"),
        {"role": "sme", "user": "rob", "occurred_at": (T0 - timedelta(hours=4)).isoformat()},
        format="json",
    )
    assert too_early.status_code == 400
    assert "occurred_at" in too_early.data
