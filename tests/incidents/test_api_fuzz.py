"""Bad input never makes the API answer 500, and never half-writes.

Each case below is one that a schemathesis run against the API (on SQLite and PostgreSQL)
answered with a 500, or with a body the schema does not describe. They run through the
Django test client against the real views, services and database; run them on PostgreSQL too
(``DATABASE_URL``), which is the stricter of the two (NUL characters, time zone offsets).
The last test posts random JSON to the declare endpoint (hypothesis, derandomized).
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import time_machine
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from incidents import services
from incidents.models import Incident
from ircore.errors import RuleError
from ircore.models import Profile

from .test_api import counts

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
LIST = "/api/v1/incidents/"
NUL = "\x00"
HUGE_DIGITS = "1" * 5000  # past Python's 4,300-digit limit for int("...")


def url(incident: Incident, *rest: str) -> str:
    return f"{LIST}{incident.reference}/" + "".join(f"{part}/" for part in rest)


def refused(response, status: int, field: str) -> str:
    """Assert the one error shape (``{"field": ["reason", ...]}``) and return the reasons."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert field in body, body
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body.values())
    return " ".join(body[field])


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def api(people, clock) -> APIClient:
    """The incident manager's client (every permission), logged in by session."""
    client = APIClient()
    client.force_login(people.manager)
    return client


@pytest.fixture
def incident(severities, catalog, people, clock) -> Incident:
    return services.incident_declare(
        title="Payments failing",
        severity=severities.sev2,
        services=[catalog.payments_api],
        user=people.manager,
        now=T0 - timedelta(hours=1),
    )


def snapshot(incident: Incident) -> tuple[dict, dict]:
    return counts(), Incident.objects.values().get(pk=incident.pk)


# --- text: NUL characters, lengths, unicode ---------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": f"Pay{NUL}ments"}, "title"),
        ({"summary": f"a{NUL}b"}, "summary"),
        # Key and slug lookups: PostgreSQL refused the query itself (500).
        ({"severity": NUL}, "severity"),
        ({"type": f"outage{NUL}"}, "type"),
        ({"services": [NUL]}, "services"),
        ({"title": "x" * 201}, "title"),
        ({"services": ["s" * 101]}, "services"),
        ({"title": ["a"]}, "title"),
        ({"services": [{"slug": "payments-api"}]}, "services"),
        ({"drill": "\u0661"}, "drill"),  # an Arabic-Indic one is not true
    ],
)
def test_declare_bad_text_is_400_naming_the_field(api, severities, catalog, change, field):
    before = counts()
    response = api.post(
        LIST,
        {"title": "Payments failing", "severity": "SEV-2", "services": ["payments-api"], **change},
        "json",
    )
    refused(response, 400, field)
    assert counts() == before


@pytest.mark.parametrize(
    "raw",
    [
        r'{"title": "\ud800 lone surrogate", "severity": "SEV-2"}',
        # Looked up (both databases failed encoding it), or quoted back in the error message
        # (the response failed encoding).
        r'{"title": "x", "severity": "\udfff"}',
        r'{"title": "x", "severity": "SEV-2", "\ud800": 1}',
        r'{"title": "x", "severity": "SEV-2", "services": [{"\ud800": "\ud800"}]}',
    ],
)
def test_lone_surrogates_in_json_are_400(api, severities, incident, raw):
    before = snapshot(incident)
    response = api.post(LIST, raw, content_type="application/json")
    assert "lone surrogate" in refused(response, 400, "detail")
    note = raw.replace('"title": "x"', '"kind": "note", "text": "x"')
    refused(api.post(url(incident, "notes"), note, content_type="application/json"), 400, "detail")
    assert snapshot(incident) == before


def test_nested_errors_are_flat_strings_that_keep_the_position(api, severities, catalog):
    response = api.post(
        LIST, {"title": "x", "severity": "SEV-2", "services": ["ok", 7, "s" * 101]}, "json"
    )
    reasons = refused(response, 400, "services")
    assert "2: Ensure this field has no more than 100 characters." in reasons


def test_unusual_unicode_is_kept_exactly(api, severities, catalog):
    title = "Zahlungen ausgefallen 🔥 — مدفوعات e\u0301 \u202eRTL\u202c 支払い"
    response = api.post(
        LIST, {"title": title, "severity": "SEV-2", "services": ["payments-api"]}, "json"
    )
    assert response.status_code == 201, response.json()
    incident = Incident.objects.get()
    assert incident.title == title
    assert incident.channel_name.startswith("#incident-2026-11-22-")


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("notes", {"kind": "note", "text": f"a{NUL}b"}, "text"),
        ("severity", {"severity": NUL, "reason": "worse"}, "severity"),
        ("severity", {"severity": "SEV-1", "reason": f"worse{NUL}"}, "reason"),
        ("status", {"status": "investigating", "note": NUL}, "note"),
        ("roles", {"role": "comms_lead", "user": f"rob{NUL}"}, "user"),
        (
            "roles",
            {"role": "comms_lead", "user": "rob", "override_reason": "r" * 301},
            "override_reason",
        ),
        ("services", {"service": NUL}, "service"),
        ("security-checkpoint", {"checkpoint": NUL}, "checkpoint"),
    ],
)
def test_actions_refuse_bad_text_and_change_nothing(api, incident, action, body, field):
    before = snapshot(incident)
    refused(api.post(url(incident, action), body, "json"), 400, field)
    assert snapshot(incident) == before


def test_patch_refuses_nul_in_text_and_changes_nothing(api, incident):
    before = snapshot(incident)
    for field in ("title", "summary", "channel_name"):
        refused(api.patch(url(incident), {field: f"x{NUL}"}, "json"), 400, field)
    assert snapshot(incident) == before


SERVICE_CALLS = {
    "title": lambda i, who, sev: services.incident_update(
        incident=i, user=who, data={"title": f"a{NUL}"}
    ),
    "text": lambda i, who, sev: services.note_add(incident=i, kind="note", text=NUL, user=who),
    "reason": lambda i, who, sev: services.incident_change_severity(
        incident=i, severity=sev.sev1, reason=f"x{NUL}", user=who
    ),
    "note": lambda i, who, sev: services.incident_set_status(
        incident=i, status="investigating", note=NUL, user=who
    ),
    "summary": lambda i, who, sev: services.incident_declare(
        title="t", summary=NUL, severity=sev.sev3, user=who
    ),
    "override_reason": lambda i, who, sev: services.role_assign(
        incident=i, role="ic", user=who, by=who, override_reason="r" * 301
    ),
}


@pytest.mark.parametrize("field", SERVICE_CALLS)
def test_services_refuse_bad_text_for_every_caller(incident, people, severities, field):
    """The admin and commands call the services directly: the same refusals hold there, or
    PostgreSQL would fail the transaction with a DataError."""
    before = snapshot(incident)
    with pytest.raises(RuleError) as refusal:
        SERVICE_CALLS[field](incident, people.manager, severities)
    assert refusal.value.field == field
    assert snapshot(incident) == before


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customers_affected": 2**31}, "customers_affected"),
        ({"customers_affected": 10**30}, "customers_affected"),
        ({"customers_affected": 1.5}, "customers_affected"),
        ({"customers_affected": True}, "customers_affected"),
        ({"customers_affected": HUGE_DIGITS}, "customers_affected"),
        ({"transactions_failed": 2**63}, "transactions_failed"),
        ({"transactions_delayed": -(2**63) - 1}, "transactions_delayed"),
        ({"financial_impact": "1e400"}, "financial_impact"),
        ({"financial_impact": "NaN"}, "financial_impact"),
        ({"financial_impact": "Infinity"}, "financial_impact"),
        ({"financial_impact": 10**12}, "financial_impact"),
        ({"financial_impact": "-0.01"}, "financial_impact"),
    ],
)
def test_patch_out_of_range_numbers_are_400_and_change_nothing(api, incident, body, field):
    before = snapshot(incident)
    refused(api.patch(url(incident), body, "json"), 400, field)
    assert snapshot(incident) == before


def test_json_nan_and_infinity_literals_are_refused(api, incident):
    before = snapshot(incident)
    for literal in ("NaN", "Infinity", "-Infinity"):
        response = api.patch(
            url(incident), f'{{"financial_impact": {literal}}}', content_type="application/json"
        )
        refused(response, 400, "detail")
    assert snapshot(incident) == before


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (2**31, "At most 2,147,483,647."),
        ("2147483648", "At most 2,147,483,647."),
        (HUGE_DIGITS, "At most 2,147,483,647."),  # int() would raise ValueError on it
        ("²", "not a whole number"),  # isdigit() but not int()-able
        ("１２", "not a whole number"),
    ],
)
def test_service_counts_have_the_columns_limits(incident, people, value, reason):
    """The admin's form on SQLite has no range validators: the service holds the limit."""
    before = snapshot(incident)
    with pytest.raises(RuleError, match=reason) as refusal:
        services.incident_update(
            incident=incident, user=people.manager, data={"customers_affected": value}
        )
    assert refusal.value.field == "customers_affected"
    assert snapshot(incident) == before


def test_count_at_the_limit_is_stored(api, incident):
    response = api.patch(
        url(incident), {"customers_affected": 2**31 - 1, "transactions_failed": 2**63 - 1}, "json"
    )
    assert response.status_code == 200, response.json()
    incident.refresh_from_db()
    assert (incident.customers_affected, incident.transactions_failed) == (2**31 - 1, 2**63 - 1)


# --- times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0001-01-01T00:00:00+05:00", "out of range"),  # before year 1 in UTC
        ("9999-12-31T23:59:59-05:00", "out of range"),  # after year 9999 in UTC
        ("0001-01-01T00:00:00Z", "on or after 1970-01-01"),  # cannot be shown west of UTC
        ("1969-12-31T23:59:59Z", "on or after 1970-01-01"),
        ("9999-12-31T23:59:59Z", "future"),
        ("2026-02-30T00:00:00Z", "wrong format"),
        ("2026-11-22T08:00:00+24:00", "wrong format"),
    ],
)
def test_declare_times_out_of_range_are_400(api, severities, catalog, value, reason):
    before = counts()
    response = api.post(
        LIST,
        {"title": "Old", "severity": "SEV-2", "services": ["payments-api"], "detected_at": value},
        "json",
    )
    assert reason in refused(response, 400, "detected_at")
    assert counts() == before


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("", {"impact_started_at": "0001-01-01T00:00:00Z"}, "impact_started_at"),
        ("", {"detected_at": "1900-01-01T00:00:00+14:00"}, "detected_at"),
        (
            "notes",
            {"kind": "note", "text": "x", "occurred_at": "0001-01-01T00:00:00Z"},
            "occurred_at",
        ),
    ],
)
def test_times_before_1970_are_refused_and_change_nothing(api, incident, action, body, field):
    before = snapshot(incident)
    send = api.patch if not action else api.post
    refused(send(url(incident, *filter(None, [action])), body, "json"), 400, field)
    assert snapshot(incident) == before


def test_a_viewer_west_of_utc_can_read_an_incident_with_the_earliest_times(api, incident, people):
    """The lower bound exists for this: the viewer's zone is applied when showing times."""
    earliest = "1970-01-01T00:00:00Z"
    assert api.patch(url(incident), {"impact_started_at": earliest}, "json").status_code == 200
    Profile.objects.filter(user=people.manager).update(time_zone="Pacific/Pago_Pago")
    response = api.get(url(incident))
    assert response.status_code == 200
    assert response.json()["impact_started_at"] == "1969-12-31T13:00:00-11:00"


def test_service_refuses_naive_note_times(incident, people):
    with pytest.raises(RuleError) as refusal:
        services.note_add(
            incident=incident,
            kind="note",
            text="x",
            user=people.manager,
            occurred_at=datetime(2026, 11, 22, 8, 0),  # noqa: DTZ001 - the point of the test
        )
    assert refusal.value.field == "occurred_at"


# --- bodies that are not objects ------------------------------------------------------------


@pytest.mark.parametrize("raw", ["[1, 2]", '"a string"', "42", "true", "null"])
@pytest.mark.parametrize(
    ("method", "where"),
    [("post", ""), ("patch", "{ref}"), ("post", "{ref}/notes"), ("post", "{ref}/status")],
)
def test_non_object_json_bodies_are_400_and_write_nothing(api, incident, raw, method, where):
    before = snapshot(incident)
    path = LIST + (where.format(ref=incident.reference) + "/" if where else "")
    response = getattr(api, method)(path, raw, content_type="application/json")
    refused(response, 400, "detail")
    assert snapshot(incident) == before


def test_malformed_and_deeply_nested_json_is_400(api, incident):
    before = snapshot(incident)
    for raw in ("{bad", "[" * 100_000, '{"title": ' * 50_000):
        response = api.post(LIST, raw, content_type="application/json")
        assert "JSON parse error" in refused(response, 400, "detail")
    assert snapshot(incident) == before


def test_a_body_over_the_upload_limit_is_413(api, severities, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = counts()
    body = {
        "title": "Big",
        "severity": "SEV-2",
        "services": ["payments-api"],
        "summary": "x" * 2000,
    }
    response = api.post(LIST, body, "json")
    assert "too large" in refused(response, 413, "detail")
    assert counts() == before


# --- query parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("page=abc", 400, "page"),
        ("page=0", 400, "page"),
        ("page=-1", 400, "page"),
        ("page=１", 400, "page"),
        (f"page={HUGE_DIGITS}", 404, "page"),  # int() would raise ValueError on it
        ("page=99", 404, "page"),
        ("page_size=abc", 400, "page_size"),
        ("page_size=0", 400, "page_size"),
        ("ordering=nonexistent", 400, "ordering"),
        ("declared_after=garbage", 400, "declared_after"),
        # SQLite failed converting these to UTC (500).
        ("declared_after=0001-01-01T00:00:00%2B05:00", 400, "declared_after"),
        ("declared_before=9999-12-31T23:59:59-05:00", 400, "declared_before"),
        # A '%' in the value broke django-filter's message formatting (500).
        ("open=100%25", 400, "open"),
        ("drill=%25s", 400, "drill"),
        ("severity=%00", 400, "severity"),
        ("service=%00", 400, "service"),
        ("status=%00", 400, "status"),
        ("unknown=1&page=x", 400, "page"),
    ],
)
def test_bad_list_parameters_are_4xx_naming_them(api, incident, query, status, field):
    refused(api.get(f"{LIST}?{query}"), status, field)


def test_page_and_page_size_that_are_fine_still_work(api, incident):
    for size in ("500", HUGE_DIGITS):  # capped at 200, as documented
        body = api.get(f"{LIST}?page=1&page_size={size}").json()
        assert [row["reference"] for row in body["results"]] == [incident.reference]
    assert api.get(f"{LIST}?page=last").status_code == 200
    assert api.get(f"{LIST}?page=&page_size=").status_code == 200


def test_time_filters_with_offsets_postgresql_refuses_are_compared_in_utc(api, incident):
    """ISO 8601 allows offsets to ±23:59, PostgreSQL only to ±15:59 (it answered 500)."""
    declared = incident.declared_at  # T0 - 1h = 08:00 UTC
    same_instant = declared.astimezone(timezone(timedelta(hours=19, minutes=40)))
    query = same_instant.isoformat().replace("+", "%2B")
    assert [r["reference"] for r in api.get(f"{LIST}?declared_after={query}").json()["results"]]
    assert not api.get(f"{LIST}?declared_before={query}").json()["results"]


def test_timeline_bad_parameters(api, incident):
    refused(api.get(f"{url(incident, 'timeline')}?kind=%00"), 400, "kind")
    refused(api.get(f"{url(incident, 'timeline')}?page=x"), 400, "page")


@pytest.mark.parametrize(
    "path",
    [
        "checklist/{huge}/tick",
        "roles/{huge}/relieve",
        "checklist/99999999999999999999/tick",
        "roles/0/relieve",
    ],
)
def test_ids_in_the_path_that_name_nothing_are_404(api, incident, path):
    before = snapshot(incident)
    response = api.post(url(incident, path.format(huge=HUGE_DIGITS)), {}, "json")
    refused(response, 404, "detail")
    assert snapshot(incident) == before


def test_errors_have_one_shape_whatever_raised_them(api, incident, client):
    assert refused(api.get(f"{LIST}INC-1999-01-01-001/"), 404, "detail")
    assert refused(client.get(LIST), 401, "detail")
    refused(api.put(url(incident), {}, "json"), 405, "detail")
    refused(api.delete(url(incident, "services", "nope")), 404, "detail")


# --- the catalog API (ircore) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        # Without ordering_fields DRF accepted any serializer source, then SQL failed (500).
        ("services/?ordering=get_tier_display", "ordering"),
        ("services/?ordering=--tier", "ordering"),
        ("teams/?ordering=members", "ordering"),
        ("severities/?ordering=colour", "ordering"),
        ("services/?public=maybe", "public"),  # was read as "no filter"
        ("services/?tier=%00", "tier"),
        ("services/?team=%00", "team"),
        ("incident-types/?page=abc", "page"),
        ("teams/?page=7", "page"),
    ],
)
def test_catalog_refuses_bad_parameters(api, catalog, severities, path, field):
    refused(api.get(f"/api/v1/{path}"), 404 if path.endswith("page=7") else 400, field)


def test_catalog_orders_by_its_listed_fields(api, catalog):
    slugs = [row["slug"] for row in api.get("/api/v1/services/?ordering=-slug").json()["results"]]
    assert slugs == ["webhooks", "settlement", "payments-api"]
    by_tier = api.get("/api/v1/services/?ordering=tier,-slug").json()["results"]
    assert [row["slug"] for row in by_tier] == ["payments-api", "webhooks", "settlement"]
    public = api.get("/api/v1/services/?public=false").json()
    assert public["count"] == 3


# --- random JSON at the declare endpoint ----------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
OFFSETS = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
)
TIMES = st.builds(
    lambda moment, offset: moment.replace(tzinfo=timezone(offset)).isoformat(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),  # noqa: DTZ001
    OFFSETS.map(lambda delta: timedelta(minutes=delta // timedelta(minutes=1))),
)
FIELDS = {
    "title": st.text(max_size=210) | JSON,
    "severity": st.sampled_from(["SEV-1", "SEV-3", "sev-1", "", NUL]) | JSON,
    "services": st.lists(st.sampled_from(["payments-api", "webhooks", "nope", NUL]), max_size=3)
    | JSON,
    "summary": st.text() | JSON,
    "type": st.sampled_from(["service-outage", None, "nope"]) | JSON,
    "drill": st.booleans() | JSON,
    "detected_at": TIMES | JSON,
    "impact_started_at": TIMES | JSON,
}
DECLARE_BODIES = (
    st.fixed_dictionaries({}, optional=FIELDS)
    # Mostly valid: a title and a known severity, the rest drawn as above.
    | st.fixed_dictionaries(
        {"title": st.text(min_size=1, max_size=40), "severity": st.just("SEV-2")},
        optional={k: v for k, v in FIELDS.items() if k not in ("title", "severity")},
    )
    | JSON
)


@settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=DECLARE_BODIES)
def test_random_json_never_500s_and_4xx_writes_nothing(api, severities, catalog, outage_type, body):
    before = counts()
    response = api.post(LIST, body, "json")
    event(f"HTTP {response.status_code}")
    assert response.status_code < 500, response.content[:500]
    if response.status_code == 201:
        assert counts()["Incident"] == before["Incident"] + 1
    else:
        assert response.status_code == 400, response.content[:500]
        refused(response, 400, next(iter(response.json())))
        assert counts() == before


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": ["Not found."]}
    # People still get Django's own page outside the API.
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
