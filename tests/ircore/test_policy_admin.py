"""The policy file in the admin: export from the severity list (anyone who reads the
policy), import with a dry-run preview and an apply step (incident managers only), and
bad uploads that list their problems and change nothing."""

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
import yaml
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents.models import Incident
from ircore import policy
from ircore.admin import POLICY_UPLOAD_MAX_BYTES
from ircore.models import IncidentType, Severity
from tests.ircore.test_admin_smoke import POLICY
from tests.ircore.test_policy import state

EXPORT = reverse("admin:ircore_severity_policy_export")
IMPORT = reverse("admin:ircore_severity_policy_import")
CHANGELIST = reverse("admin:ircore_severity_changelist")


@pytest.fixture
def world(cast):
    """The shipped default policy, loaded, and the cast."""
    policy.import_policy(policy.load_policy_file(POLICY))
    return cast


@pytest.fixture
def edited():
    """The default policy with one change of each kind: SEV-1's ack target and checklist
    changed, a SEV-5 added, the "integration-failure" incident type left out (removed)."""
    document = copy.deepcopy(policy.load_policy_file(POLICY))
    sev1 = document["severities"][0]
    sev1["ack_target"] = "10m"
    sev1["checklist"].append("Open a bridge call")
    document["severities"].append({"key": "SEV-5", "rank": 5, "name": "Informational"})
    document["incident_types"] = [
        t for t in document["incident_types"] if t["key"] != "integration-failure"
    ]
    return document


def upload(content: bytes | str, name: str = "policy.yaml") -> SimpleUploadedFile:
    if isinstance(content, str):
        content = content.encode()
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def as_yaml(document) -> SimpleUploadedFile:
    return upload(policy.dumps_policy(document, "yaml"))


def logged_in(client, user):
    client.force_login(user)
    return client


# --- Export ---


def test_export_downloads_yaml_that_imports_back_unchanged(client, world):
    logged_in(client, world.manager)
    with time_machine.travel(datetime(2025, 3, 9, 12, 0, tzinfo=UTC)):
        response = client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="policy-2025-03-09.yaml"'
    document = yaml.safe_load(response.content)
    assert [s["key"] for s in document["severities"]] == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]

    before = state()
    summary = policy.import_policy(document)
    assert not summary.changed  # the round trip is exact
    assert state() == before


def test_export_as_json(client, world):
    logged_in(client, world.manager)
    response = client.get(EXPORT, {"format": "json"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="policy-')
    assert response["Content-Disposition"].endswith('.json"')
    assert json.loads(response.content) == policy.export_policy()


def test_export_refuses_an_unknown_format(client, world):
    logged_in(client, world.manager)
    response = client.get(EXPORT, {"format": "xml"})
    assert response.status_code == 400
    assert b'"yaml" or "json"' in response.content


@pytest.mark.parametrize("who", ["leader", "responder"])
def test_everyone_who_reads_every_section_may_export(client, world, who):
    logged_in(client, getattr(world, who))
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert yaml.safe_load(response.content) == policy.export_policy()


def test_support_reads_severities_but_may_not_export_the_thresholds_recipients(client, world):
    logged_in(client, world.support)
    assert client.get(EXPORT).status_code == 403
    assert b"Export policy" not in client.get(reverse("admin:ircore_severity_changelist")).content


def test_outsider_is_sent_to_the_login_page(client, world):
    logged_in(client, world.outsider)
    for target in (EXPORT, IMPORT):
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    response = client.post(IMPORT, {"file": as_yaml(policy.export_policy())})
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_severity_list_offers_import_only_to_managers(client, world):
    page = logged_in(client, world.manager).get(CHANGELIST).content.decode()
    assert f'href="{EXPORT}"' in page
    assert f'href="{IMPORT}"' in page

    page = logged_in(client, world.leader).get(CHANGELIST).content.decode()
    assert f'href="{EXPORT}"' in page
    assert f'href="{IMPORT}"' not in page


# --- Import: preview, then apply ---


def test_dry_run_shows_what_would_change_and_changes_nothing(client, world, edited):
    logged_in(client, world.manager)
    assert client.get(IMPORT).status_code == 200
    before = state()

    response = client.post(IMPORT, {"file": as_yaml(edited), "mode": "dry_run"})

    assert response.status_code == 200
    assert state() == before
    summary = response.context["summary"]
    assert summary.dry_run and summary.changed
    assert {name: str(c) for name, c in summary.counts.items()} == {
        "severities": "1 created, 1 updated, 0 deleted",
        "checklist items": "1 created, 0 updated, 0 deleted",
        "incident_types": "0 created, 0 updated, 1 deleted",
        "financial_thresholds": "0 created, 0 updated, 0 deleted",
        # The exported file carries every section; the later apps' sections are unchanged.
        "escalation": "0 created, 0 updated, 0 deleted",
        "escalation steps": "0 created, 0 updated, 0 deleted",
        "integrations": "0 created, 0 updated, 0 deleted",
        "templates": "0 created, 0 updated, 0 deleted",
    }
    changes = {c.section: c for c in response.context["changes"]}
    assert changes["severities"].created == ["SEV-5 (Informational)"]
    assert changes["severities"].updated == [
        ("SEV-1 (Critical)", ["ack_target: 5m → 10m", "checklist (1 added)"])
    ]
    assert changes["incident_types"].deleted == ["integration-failure (Integration Failure)"]
    page = response.content.decode()
    assert "nothing has been changed yet" in page
    assert "ack_target: 5m → 10m" in page
    assert 'name="_apply"' in page


def test_apply_after_the_dry_run_imports_as_the_manager(client, world, edited):
    logged_in(client, world.manager)
    preview = client.post(IMPORT, {"file": as_yaml(edited), "mode": "dry_run"})

    response = client.post(IMPORT, {"payload": preview.context["payload"], "_apply": "Apply"})

    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    sev1 = Severity.objects.get(key="SEV-1")
    assert sev1.ack_target == timedelta(minutes=10)
    assert sev1.checklist.filter(text="Open a bridge call").exists()
    assert Severity.objects.filter(key="SEV-5").exists()
    assert not IncidentType.objects.filter(key="integration-failure").exists()

    latest = sev1.history.latest("history_id")
    assert (latest.history_user, latest.history_change_reason) == (world.manager, "policy import")
    created = Severity.history.get(key="SEV-5")
    assert (created.history_type, created.history_user) == ("+", world.manager)
    removed = IncidentType.history.get(key="integration-failure", history_type="-")
    assert removed.history_user == world.manager

    message = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == [
        "Imported policy.yaml: severities: 1 created, 1 updated, 0 deleted; "
        "checklist items: 1 created, 0 updated, 0 deleted; "
        "incident_types: 0 created, 0 updated, 1 deleted; "
        "financial_thresholds: 0 created, 0 updated, 0 deleted; "
        "escalation: 0 created, 0 updated, 0 deleted; "
        "escalation steps: 0 created, 0 updated, 0 deleted; "
        "integrations: 0 created, 0 updated, 0 deleted; "
        "templates: 0 created, 0 updated, 0 deleted."
    ]


def test_apply_mode_imports_straight_away(client, world, edited):
    logged_in(client, world.manager)
    response = client.post(IMPORT, {"file": as_yaml(edited), "mode": "apply"})

    assert response.status_code == 302
    assert Severity.objects.get(key="SEV-1").ack_target == timedelta(minutes=10)
    assert Severity.history.filter(history_user=world.manager).count() == 2  # SEV-1, SEV-5


def test_json_file_is_accepted(client, world, edited):
    logged_in(client, world.manager)
    file = upload(policy.dumps_policy(edited, "json"), name="policy.json")
    response = client.post(IMPORT, {"file": file, "mode": "apply"})

    assert response.status_code == 302
    assert Severity.objects.filter(key="SEV-5").exists()


def test_a_file_that_changes_nothing_says_so(client, world):
    logged_in(client, world.manager)
    same = as_yaml(policy.export_policy())

    preview = client.post(IMPORT, {"file": same, "mode": "dry_run"})
    assert preview.context["summary"].changed is False
    assert "importing it would change nothing" in preview.content.decode()
    assert 'name="_apply"' not in preview.content.decode()

    response = client.post(IMPORT, {"file": as_yaml(policy.export_policy()), "mode": "apply"})
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "policy.yaml matches the current policy; nothing was changed."
    ]


def test_apply_checks_the_file_again(client, world, edited):
    """Between preview and apply an incident starts using integration-failure, which the
    file removes: the apply is refused with the reason, and nothing changes."""
    logged_in(client, world.manager)
    preview = client.post(IMPORT, {"file": as_yaml(edited), "mode": "dry_run"})
    Incident.objects.create(
        reference="INC-1",
        title="Webhooks down",
        severity=Severity.objects.get(key="SEV-2"),
        incident_type=IncidentType.objects.get(key="integration-failure"),
    )
    before = state()

    response = client.post(IMPORT, {"payload": preview.context["payload"], "_apply": "Apply"})

    assert response.status_code == 200
    assert state() == before
    assert response.context["problem_heading"] == (
        "policy.yaml has 1 problem; nothing was changed."
    )
    [problem] = response.context["problems"]
    assert problem.startswith("incident_types: Integration Failure is not in the file")


def test_an_altered_expired_or_borrowed_preview_is_refused(client, world, edited, make_user):
    other_manager = make_user("max", "Incident managers")
    logged_in(client, world.manager)
    with time_machine.travel(datetime(2025, 3, 9, 12, 0, tzinfo=UTC), tick=False):
        payload = client.post(IMPORT, {"file": as_yaml(edited), "mode": "dry_run"}).context[
            "payload"
        ]
    before = state()

    def apply(token):
        response = client.post(IMPORT, {"payload": token, "_apply": "Apply"})
        assert response.status_code == 200
        assert response.context["problem_heading"].startswith("This preview has expired")
        assert state() == before

    with time_machine.travel(datetime(2025, 3, 9, 12, 30, tzinfo=UTC), tick=False):
        apply(payload[:-2] + ("AA" if not payload.endswith("AA") else "BB"))
        apply("")
        logged_in(client, other_manager)
        apply(payload)
    logged_in(client, world.manager)
    with time_machine.travel(datetime(2025, 3, 9, 13, 1, tzinfo=UTC), tick=False):
        apply(payload)


# --- Bad uploads: listed problems, nothing changed ---

BAD_FILES = {
    "not yaml": ("policy.yaml", "severities: [\n  - key: SEV-1\n", "not valid YAML"),
    "not json": ("policy.json", '{"version": 1,', "not valid JSON: line 1 column"),
    "nul characters": ("policy.yaml", "version: 1\x00\x00\n", "not valid YAML"),
    "a list": (
        "policy.yaml",
        "- version: 1\n",
        'the policy file must be a mapping of sections, got [{"version": 1}]',
    ),
    "a bare word": ("policy.yaml", "hello", 'must be a mapping of sections, got "hello"'),
    "unknown section": (
        "policy.yaml",
        "version: 1\nseverity: []\n",
        'unknown section "severity"; did you mean "severities"?',
    ),
    "bad duration": (
        "policy.yaml",
        "version: 1\nseverities:\n  - {key: SEV-1, rank: 1, name: Critical, "
        'ack_target: "5 minutes"}\n',
        'severities[0] (SEV-1).ack_target: "5 minutes" is not a duration (use e.g. 5m, 4h, 2d)',
    ),
    "nested too deeply": ("policy.json", "[" * 100_000, "policy.json: nested too deeply"),
    "yaml nested too deeply": ("policy.yaml", "[" * 100_000, "policy.yaml: nested too deeply"),
    # "Billion laughs": each level lists the one before ten times; 10**9 values at "i".
    "alias bomb": (
        "policy.yaml",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n"
            for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + "severities: [*i, *i]\n",
        "policy.yaml: expands to too many values (YAML aliases?)",
    ),
}


@pytest.mark.parametrize(("name", "content", "expected"), BAD_FILES.values(), ids=BAD_FILES)
@pytest.mark.parametrize("mode", ["dry_run", "apply"])
def test_a_bad_file_lists_its_problems_and_changes_nothing(
    client, world, name, content, expected, mode
):
    logged_in(client, world.manager)
    before = state()

    response = client.post(IMPORT, {"file": upload(content, name), "mode": mode})

    assert response.status_code == 200
    assert state() == before
    assert response.context["problem_heading"].endswith("; nothing was changed.")
    assert any(expected in p for p in response.context["problems"]), response.context["problems"]
    assert response.context["summary"] is None
    assert "errornote" in response.content.decode()


def test_every_problem_is_listed_each_naming_its_entry(client, world):
    logged_in(client, world.manager)
    document = policy.export_policy()
    document["severities"][0]["ack_target"] = "soon"
    document["severities"][1]["rank"] = 1
    document["incident_types"][0]["colour"] = "red"
    before = state()

    response = client.post(IMPORT, {"file": as_yaml(document), "mode": "apply"})

    assert state() == before
    assert response.context["problem_heading"] == (
        "policy.yaml has 3 problems; nothing was changed."
    )
    problems = response.context["problems"]
    assert problems[0].startswith('severities[0] (SEV-1).ack_target: "soon" is not a duration')
    assert problems[1] == "severities[1] (SEV-2).rank: 1 is used twice (also severities[0] (SEV-1))"
    assert problems[2].startswith("incident_types[0] (data-loss-or-corruption).colour: unknown")
    page = response.content.decode()
    assert all(p.replace('"', "&quot;") in page for p in problems)


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("policy.yaml", b"", "The submitted file is empty."),
        (
            "policy.yaml",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
            "policy.yaml is not UTF-8 text (byte 0 is 0x89); a policy file is YAML or JSON.",
        ),
        (
            "policy.txt",
            b"version: 1\n",
            "policy.txt: unknown file type '.txt' (use .yaml, .yml or .json)",
        ),
    ],
    ids=["empty", "binary", "wrong extension"],
)
def test_a_file_that_is_not_a_policy_file_is_a_form_error(client, world, name, content, error):
    logged_in(client, world.manager)
    before = state()

    response = client.post(IMPORT, {"file": upload(content, name), "mode": "apply"})

    assert response.status_code == 200
    assert state() == before
    assert response.context["form"].errors == {"file": [error]}


def test_a_file_over_the_limit_is_refused(client, world):
    logged_in(client, world.manager)
    document = policy.export_policy()
    text = policy.dumps_policy(document, "yaml")
    padding = "#" + "x" * 99 + "\n"  # a valid YAML comment line: only the size is wrong
    big = text + padding * (POLICY_UPLOAD_MAX_BYTES // len(padding) + 1)
    before = state()

    response = client.post(IMPORT, {"file": upload(big), "mode": "apply"})

    assert response.status_code == 200
    assert state() == before
    [error] = response.context["form"].errors["file"]
    assert error == (
        f"The file is {len(big.encode()):,} bytes; a policy file may be at most 1 MB "
        "(1,048,576 bytes)."
    )


def test_a_missing_file_is_a_form_error(client, world):
    logged_in(client, world.manager)
    response = client.post(IMPORT, {"mode": "dry_run"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["This field is required."]}


# --- Who may import ---


@pytest.mark.parametrize("who", ["responder", "leader", "support"])
def test_only_incident_managers_may_import(client, world, edited, who):
    user = getattr(world, who)
    before = state()
    logged_in(client, world.manager)
    payload = client.post(IMPORT, {"file": as_yaml(edited), "mode": "dry_run"}).context["payload"]

    logged_in(client, user)
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, {"file": as_yaml(edited), "mode": "apply"}).status_code == 403
    assert client.post(IMPORT, {"payload": payload, "_apply": "Apply"}).status_code == 403
    assert state() == before


def test_a_superuser_may_import(admin_client, world, edited):
    response = admin_client.post(IMPORT, {"file": as_yaml(edited), "mode": "apply"})
    assert response.status_code == 302
    assert Severity.objects.filter(key="SEV-5").exists()
