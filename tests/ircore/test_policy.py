"""The policy file: durations, export/import round trips, the shipped policies, refusals
that change nothing, the command, and history."""

import copy
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents.models import Incident, Runbook
from ircore import policy
from ircore.models import ChecklistTemplateItem, FinancialThreshold, IncidentType, Severity
from ircore.policy import registry

POLICIES = Path(__file__).resolve().parents[2] / "policies"
DEFAULT = POLICIES / "default.yaml"
P0_P3 = POLICIES / "p0-p3.yaml"

SEV1_CHECKLIST = [
    "Declare incident in #incidents Slack channel",
    "Page all engineering leads",
    "Get incident commander + tech lead",
    "Send customer notification within 5 minutes",
    "Begin root cause investigation",
    "Executive team briefed",
    "Customer success team ready for support volume",
]


def state():
    """Everything an import could touch: the exported policy and the history row counts."""
    return (
        policy.export_policy(),
        Severity.history.count(),
        ChecklistTemplateItem.history.count(),
        IncidentType.history.count(),
        FinancialThreshold.history.count(),
    )


@pytest.fixture
def default_doc():
    return policy.load_policy_file(DEFAULT)


@pytest.fixture
def loaded(db, default_doc):
    """The default policy imported; returns a fresh copy of its document to edit."""
    policy.import_policy(default_doc)
    return copy.deepcopy(default_doc)


# --- Durations ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("1w", timedelta(days=7)),
        ("0s", timedelta(0)),
        (None, None),
        ("", None),
    ],
)
def test_parse_duration_accepts_human_units(text, expected):
    assert policy.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["5 minutes", "300", "1.5h", "h", "-5m", "5m4h", 300, True])
def test_parse_duration_refuses_anything_else_with_a_hint(text):
    with pytest.raises(ValueError, match=r"is not a duration \(use e\.g\. 5m, 4h, 2d\)"):
        policy.parse_duration(text)


@pytest.mark.parametrize("text", ["367d", "9999999999w", "20000000w"])
def test_parse_duration_refuses_more_than_a_year_instead_of_overflowing(text):
    with pytest.raises(ValueError, match="longer than a year"):
        policy.parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(seconds=90), "1m30s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(hours=24), "24h"),
        (timedelta(hours=48), "48h"),
        (timedelta(days=5), "5d"),
        (timedelta(days=7, hours=2), "7d2h"),
        (timedelta(0), "0s"),
        (None, None),
    ],
)
def test_format_duration_reads_like_the_seeds_and_parses_back(value, text):
    assert policy.format_duration(value) == text
    assert policy.parse_duration(text) == value


# --- The shipped policies ---


def test_default_policy_loads_the_seed_process(loaded):
    sev1 = Severity.objects.get(key="SEV-1")
    assert [i.text for i in sev1.checklist.order_by("position")] == SEV1_CHECKLIST
    assert sev1.ack_target == timedelta(minutes=5)
    assert sev1.page_immediately and sev1.executive_sponsor_required
    assert sev1.postmortem_due == timedelta(hours=24)

    targets = {
        s.key: (s.ack_target, s.resolve_target, s.customer_update_every, s.internal_update_every)
        for s in Severity.objects.all()
    }
    h, m = timedelta(hours=1), timedelta(minutes=1)
    assert targets == {
        "SEV-1": (5 * m, h, 15 * m, 15 * m),
        "SEV-2": (15 * m, 4 * h, 30 * m, 15 * m),
        "SEV-3": (h, 8 * h, None, 30 * m),
        "SEV-4": (24 * h, timedelta(days=5), None, None),
    }
    assert list(Severity.objects.values_list("key", flat=True)) == [
        "SEV-1",
        "SEV-2",
        "SEV-3",
        "SEV-4",
    ]
    assert Severity.objects.get(key="SEV-4").postmortem_required is False

    regulated = IncidentType.objects.filter(regulatory_notification_hours=72)
    assert set(regulated.values_list("key", flat=True)) == {
        "security-breach",
        "data-privacy-incident",
    }
    assert IncidentType.objects.count() == 6
    assert list(FinancialThreshold.objects.values_list("amount", flat=True)) == [
        Decimal(n) for n in (1000, 5000, 10000, 25000, 50000, 100000)
    ]


def test_p0_p3_policy_replaces_the_sev_scheme_and_keeps_thresholds(loaded):
    summary = policy.import_policy(policy.load_policy_file(P0_P3))

    exported = policy.export_policy()
    assert [s["key"] for s in exported["severities"]] == ["P0", "P1", "P2", "P3"]
    assert exported["severities"][0]["ack_target"] == "5m"
    assert exported["severities"][3]["ack_target"] == "24h"
    assert summary.counts["severities"].deleted == 4
    # The file has no financial_thresholds section, so they are left alone.
    assert "financial_thresholds" not in summary.counts
    assert FinancialThreshold.objects.count() == 6


# --- Round trips ---


def test_export_import_round_trip_restores_an_identical_policy(loaded, django_user_model):
    alice = django_user_model.objects.create_user("alice")
    threshold = FinancialThreshold.objects.get(amount=1000)
    threshold.notify_users.add(alice)
    threshold.notify_emails = "finance@example.com\nceo@example.com"
    threshold.save()
    FinancialThreshold.objects.create(amount=Decimal("2500.50"), audience="Odd amount")
    before = policy.export_policy()

    # Move far away, then come back from the file.
    policy.import_policy(policy.load_policy_file(P0_P3))
    assert policy.export_policy() != before
    policy.import_policy(copy.deepcopy(before))

    assert policy.export_policy() == before
    again = policy.import_policy(copy.deepcopy(before))
    assert not again.changed


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_files_round_trip_in_yaml_and_json(loaded, tmp_path, suffix):
    path = tmp_path / f"policy{suffix}"
    document = policy.export_policy()
    policy.dump_policy_file(document, path)

    assert policy.load_policy_file(path) == document
    if suffix == ".json":
        assert path.read_text().lstrip().startswith("{")


def test_unknown_file_extension_is_refused(tmp_path):
    with pytest.raises(policy.PolicyError, match=r"unknown file type '\.txt'"):
        policy.load_policy_file(tmp_path / "policy.txt")


# --- Refusals change nothing ---


def _edit(doc, case):
    if case == "unknown section":
        doc["severites"] = doc.pop("severities")
    elif case == "bad duration":
        doc["severities"][2]["ack_target"] = "5 minutes"
    elif case == "duplicate rank":
        doc["severities"][3]["rank"] = 3
    elif case == "duplicate key":
        doc["incident_types"][1]["key"] = "service-outage"
    elif case == "missing key":
        del doc["severities"][1]["key"]
    elif case == "unknown username":
        doc["financial_thresholds"][1]["notify_users"] = ["nobody"]
    elif case == "unquoted colour":
        doc["severities"][0]["colour"] = None
    elif case == "unknown field":
        doc["severities"][0]["ack_targt"] = doc["severities"][0].pop("ack_target")
    elif case == "wrong type":
        doc["severities"][0]["page_immediately"] = "yes please"
    elif case == "bad email":
        doc["financial_thresholds"][0]["notify_emails"] = ["not-an-address"]
    elif case == "no version":
        del doc["version"]
    return doc


BAD_FILES = {
    "unknown section": 'unknown section "severites"; did you mean "severities"?',
    "bad duration": (
        'severities[2] (SEV-3).ack_target: "5 minutes" is not a duration (use e.g. 5m, 4h, 2d)'
    ),
    "duplicate rank": "severities[3] (SEV-4).rank: 3 is used twice (also severities[2] (SEV-3))",
    "duplicate key": (
        'incident_types[1] (service-outage).key: "service-outage" is used twice '
        "(also incident_types[0] (service-outage))"
    ),
    "missing key": "severities[1].key: is required",
    "unknown username": ('financial_thresholds[1] (5000).notify_users[0]: unknown user "nobody"'),
    "unquoted colour": "severities[0] (SEV-1).colour: null is not a colour",
    "unknown field": 'severities[0] (SEV-1).ack_targt: unknown field "ack_targt"; did you mean',
    "wrong type": 'severities[0] (SEV-1).page_immediately: "yes please" is not true or false',
    "bad email": (
        'financial_thresholds[0] (1000).notify_emails[0]: "not-an-address" is not an email'
    ),
    "no version": "version: null is not supported",
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_names_the_entry_and_changes_nothing(loaded, case):
    doc = _edit(loaded, case)
    # A good change in the same file must not slip through either.
    if "severities" in doc:
        doc["severities"][0]["name"] = "Renamed"
    before = state()

    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy(doc)

    assert any(p.startswith(BAD_FILES[case]) for p in caught.value.problems), caught.value.problems
    assert state() == before


def test_every_problem_is_reported_at_once(loaded):
    doc = _edit(_edit(_edit(loaded, "bad duration"), "duplicate rank"), "unknown username")
    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy(doc)
    assert len(caught.value.problems) == 3


def test_removing_a_severity_still_used_by_an_incident_is_refused(loaded):
    Incident.objects.create(
        reference="INC-T", title="t", severity=Severity.objects.get(key="SEV-3")
    )
    loaded["severities"] = [s for s in loaded["severities"] if s["key"] != "SEV-3"]
    loaded["severities"][0]["name"] = "Renamed"
    before = state()

    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy(loaded)

    assert caught.value.problems == [
        "severities: SEV-3 Medium is not in the file but cannot be removed: "
        "still referenced by 1 incident (INC-T t); "
        "map SEV-3 to a level of the file to move them there"
    ]
    assert state() == before


def test_removing_an_incident_type_still_used_is_refused(loaded):
    breach = IncidentType.objects.get(key="security-breach")
    Incident.objects.create(
        reference="INC-T",
        title="t",
        severity=Severity.objects.get(key="SEV-1"),
        incident_type=breach,
    )
    loaded["incident_types"] = [t for t in loaded["incident_types"] if t["key"] != breach.key]

    with pytest.raises(policy.PolicyError, match="Security Breach is not in the file"):
        policy.import_policy(loaded)
    assert IncidentType.objects.filter(key="security-breach").exists()


def test_a_type_linked_from_a_runbook_is_named_by_the_runbook(loaded):
    breach = IncidentType.objects.get(key="security-breach")
    runbook = Runbook.objects.create(title="Security incident", slug="security", body="x")
    runbook.incident_types.add(breach)
    loaded["incident_types"] = [t for t in loaded["incident_types"] if t["key"] != breach.key]

    with pytest.raises(policy.PolicyError) as refused:
        policy.import_policy(loaded)
    assert "still referenced by 1 runbook (Security incident)" in str(refused.value)
    assert IncidentType.objects.filter(key="security-breach").exists()


def test_unreferenced_rows_missing_from_the_file_are_deleted(loaded):
    loaded["severities"] = loaded["severities"][:3]
    loaded["financial_thresholds"] = loaded["financial_thresholds"][1:]

    summary = policy.import_policy(loaded)

    assert not Severity.objects.filter(key="SEV-4").exists()
    assert not ChecklistTemplateItem.objects.filter(severity__key="SEV-4").exists()
    assert not FinancialThreshold.objects.filter(amount=1000).exists()
    assert summary.counts["severities"].deleted == 1
    assert summary.counts["checklist items"].deleted == 4
    assert summary.counts["financial_thresholds"].deleted == 1


# --- Applying ---


def test_checklist_is_replaced_keeping_rows_whose_text_is_unchanged(loaded):
    sev1 = Severity.objects.get(key="SEV-1")
    ids = {i.text: i.pk for i in sev1.checklist.all()}
    new_list = [SEV1_CHECKLIST[1], "Open a bridge call", SEV1_CHECKLIST[0]]
    loaded["severities"][0]["checklist"] = new_list

    summary = policy.import_policy(loaded)

    items = list(sev1.checklist.order_by("position"))
    assert [i.text for i in items] == new_list
    assert items[0].pk == ids[SEV1_CHECKLIST[1]]
    assert items[2].pk == ids[SEV1_CHECKLIST[0]]
    assert vars(summary.counts["checklist items"]) == {"created": 1, "updated": 2, "deleted": 5}


def test_ranks_can_be_swapped(loaded):
    loaded["severities"][1]["rank"], loaded["severities"][2]["rank"] = 3, 2

    summary = policy.import_policy(loaded)

    assert list(Severity.objects.values_list("key", flat=True)) == [
        "SEV-1",
        "SEV-3",
        "SEV-2",
        "SEV-4",
    ]
    assert summary.counts["severities"].updated == 2


def test_threshold_users_and_emails_are_resolved(loaded, django_user_model):
    django_user_model.objects.create_user("cfo")
    loaded["financial_thresholds"][2]["notify_users"] = ["cfo"]
    loaded["financial_thresholds"][2]["notify_emails"] = ["finance@example.com"]

    summary = policy.import_policy(loaded)

    threshold = FinancialThreshold.objects.get(amount=10000)
    assert [u.username for u in threshold.notify_users.all()] == ["cfo"]
    assert threshold.email_list == ["finance@example.com"]
    assert summary.counts["financial_thresholds"].updated == 1


def test_import_writes_history_with_the_reason(loaded, django_user_model):
    assert set(Severity.history.values_list("history_change_reason", flat=True)) == {
        "policy import"
    }
    editor = django_user_model.objects.create_user("editor")
    loaded["severities"][0]["resolve_target"] = "2h"
    loaded["severities"] = loaded["severities"][:3]

    policy.import_policy(loaded, user=editor)

    changed = Severity.history.filter(key="SEV-1").latest("history_id")
    assert (changed.history_type, changed.resolve_target) == ("~", timedelta(hours=2))
    assert changed.history_change_reason == "policy import"
    assert changed.history_user == editor
    removed = Severity.history.filter(key="SEV-4").latest("history_id")
    assert (removed.history_type, removed.history_change_reason) == ("-", "policy import")
    assert (
        ChecklistTemplateItem.history.filter(
            history_type="-", history_change_reason="policy import"
        ).count()
        == 4
    )


def test_dry_run_counts_but_changes_nothing(loaded):
    loaded["severities"][0]["name"] = "Renamed"
    loaded["severities"] = loaded["severities"][:3]
    before = state()

    summary = policy.import_policy(loaded, dry_run=True)

    assert summary.dry_run
    assert (summary.counts["severities"].updated, summary.counts["severities"].deleted) == (1, 1)
    assert state() == before


# --- Sections added by later apps ---


def test_later_apps_can_register_a_section(loaded, monkeypatch):
    stored = []

    def validate(value, ctx):
        for i, name in enumerate(value):
            if name not in ctx.severity_keys():
                ctx.problems.append(f"escalation_policies[{i}]: unknown severity {name!r}")
        return value

    def apply(plan, ctx):
        stored[:] = plan
        return policy.Counts(created=len(plan))

    section = policy.PolicySection(
        "escalation_policies", lambda: list(stored), validate, apply, order=50
    )
    monkeypatch.setitem(registry._SECTIONS, section.name, section)

    # Severity keys are checked against the file being imported, not the database.
    loaded["severities"][0]["key"] = "SEV-0"
    loaded["escalation_policies"] = ["SEV-0", "SEV-2"]
    summary = policy.import_policy(loaded)
    assert summary.counts["escalation_policies"].created == 2
    assert policy.export_policy()["escalation_policies"] == ["SEV-0", "SEV-2"]

    with pytest.raises(policy.PolicyError, match="unknown severity 'SEV-1'"):
        policy.import_policy({"version": 1, "escalation_policies": ["SEV-1"]})


# --- The management command ---


def test_command_imports_and_prints_a_summary(db):
    out = io.StringIO()
    call_command("policy", "import", str(DEFAULT), stdout=out)

    assert "severities: 4 created, 0 updated, 0 deleted" in out.getvalue()
    assert "checklist items: 24 created" in out.getvalue()
    assert Severity.objects.count() == 4


def test_command_dry_run_changes_nothing(db):
    out = io.StringIO()
    call_command("policy", "import", str(DEFAULT), "--dry-run", stdout=out)

    assert "nothing was changed" in out.getvalue()
    assert "severities: 4 created" in out.getvalue()
    assert Severity.objects.count() == 0


def test_command_refuses_a_bad_file_listing_every_problem(loaded, tmp_path):
    bad = _edit(loaded, "bad duration")
    bad["severites"] = []
    path = tmp_path / "bad.json"
    policy.dump_policy_file(bad, path)
    before = state()
    err = io.StringIO()

    with pytest.raises(CommandError, match="2 problems; nothing was changed"):
        call_command("policy", "import", str(path), stdout=io.StringIO(), stderr=err)

    assert BAD_FILES["bad duration"] in err.getvalue()
    assert 'unknown section "severites"' in err.getvalue()
    assert state() == before


def test_command_reports_a_file_that_is_not_yaml(db, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("severities: [\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("policy", "import", str(path), stderr=err)
    assert "not valid YAML" in err.getvalue()


def test_command_refuses_a_yaml_alias_bomb_without_expanding_it(db, tmp_path):
    # Nine levels of ten aliases each: a few hundred bytes that expand to 10**9 values.
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("policy", "import", str(path), stderr=err)
    assert "expands to too many values" in err.getvalue()
    assert not Severity.objects.exists()


def test_command_exports_yaml_to_stdout_and_json_to_a_file(loaded, tmp_path):
    out = io.StringIO()
    call_command("policy", "export", "-", stdout=out)
    assert policy.loads_policy(out.getvalue()) == policy.export_policy()
    assert "- 'Declare incident in #incidents Slack channel'" in out.getvalue()

    path = tmp_path / "policy.json"
    call_command("policy", "export", str(path), stdout=io.StringIO())
    assert policy.load_policy_file(path) == policy.export_policy()

    # And the JSON file imports back without a change.
    out = io.StringIO()
    call_command("policy", "import", str(path), stdout=out)
    assert "severities: 0 created, 0 updated, 0 deleted" in out.getvalue()
