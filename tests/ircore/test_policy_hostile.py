"""Hostile policy files (defect 7): each is a clear, bounded error naming the entry, the
same in the admin (a listed problem or a form error, never a 500) and in the command (a
non-zero exit with the message on stderr, never a traceback), and nothing changes."""

import io
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from ircore import policy
from tests.ircore.test_admin_smoke import POLICY
from tests.ircore.test_policy import state

IMPORT = reverse("admin:ircore_severity_policy_import")

SEV = "version: 1\nseverities:\n  - {key: SEV-1, rank: 1, name: %s}\n"
THRESHOLD = "version: 1\nfinancial_thresholds:\n  - {amount: %s, audience: CFO}\n"

# name: (file name, content, the problem expected, word for word or as its start)
HOSTILE = {
    "amount 1e400": (
        "policy.yaml",
        THRESHOLD % "1e400",
        'financial_thresholds[0] (1e400).amount: "1e400" must be at least 0 and less than '
        "1,000,000,000,000",
    ),
    "amount 1.0e+400 (infinity)": (
        "policy.yaml",
        THRESHOLD % "1.0e+400",
        "financial_thresholds[0] (inf).amount: Infinity is not an amount",
    ),
    "amount 1e400 in JSON": (
        "policy.json",
        '{"version": 1, "financial_thresholds": [{"amount": 1e400, "audience": "CFO"}]}',
        "financial_thresholds[0] (inf).amount: Infinity is not an amount",
    ),
    "amount with a thousand digits": (
        "policy.yaml",
        THRESHOLD % ('"' + "9" * 1000 + '"'),
        f"financial_thresholds[0] ({'9' * 39}…).amount: ",
    ),
    "NUL in a name": (
        "policy.yaml",
        SEV % '"Crit\\0ical"',
        "severities[0] (SEV-1).name: null characters are not allowed",
    ),
    "NUL in a checklist line": (
        "policy.json",
        json.dumps(
            {
                "version": 1,
                "severities": [
                    {"key": "SEV-1", "rank": 1, "name": "Critical", "checklist": ["a\x00b"]}
                ],
            }
        ),
        "severities[0] (SEV-1).checklist[0]: null characters are not allowed",
    ),
    "NUL in a key names the entry printably": (
        "policy.json",
        '{"version": 1, "severities": [{"key": "SEV\\u0000", "rank": 1, "name": "x"}]}',
        "severities[0] (SEV\\x00).key: null characters are not allowed",
    ),
    "lone surrogate in a name": (
        "policy.json",
        '{"version": 1, "severities": [{"key": "SEV-1", "rank": 1, "name": "x\\ud800"}]}',
        "severities[0] (SEV-1).name: contains a lone surrogate (\\ud800), which is not text",
    ),
    "lone surrogate in a user name": (
        "policy.json",
        '{"version": 1, "financial_thresholds": '
        '[{"amount": 1, "audience": "CFO", "notify_users": ["\\udfff"]}]}',
        "financial_thresholds[0] (1).notify_users[0]: contains a lone surrogate (\\udfff)",
    ),
    "lone surrogate in YAML": (
        "policy.yaml",
        SEV % '"x\\ud800"',
        "policy.yaml: not valid YAML: ",
    ),
    "a number of 5,000 digits": (
        "policy.yaml",
        "version: 1\nseverities:\n  - {key: SEV-1, name: x, rank: %s}\n" % ("1" * 5000),
        "policy.yaml: not valid YAML: a number is too long",
    ),
    "a JSON number of 5,000 digits": (
        "policy.json",
        '{"version": %s}' % ("1" * 5000),
        "policy.json: not valid JSON: a number is too long",
    ),
    "version true": ("policy.yaml", "version: true\n", "version: true is not supported"),
    "regulatory deadline past a year": (
        "policy.yaml",
        "version: 1\nincident_types:\n  - {key: gdpr, name: GDPR, "
        "regulatory_notification_hours: 99999999999999999999}\n",
        "incident_types[0] (gdpr).regulatory_notification_hours: 99999999999999999999 must be "
        "between 0 and 8784",
    ),
    "a checklist of 5,000 lines": (
        "policy.json",
        json.dumps(
            {
                "version": 1,
                "severities": [
                    {
                        "key": "SEV-1",
                        "rank": 1,
                        "name": "x",
                        "checklist": [f"step {n}" for n in range(5000)],
                    }
                ],
            }
        ),
        "severities[0] (SEV-1).checklist: lists 5,000 items (at most 200)",
    ),
    "forty checklists of 190 lines": (
        "policy.json",
        json.dumps(
            {
                "version": 1,
                "severities": [
                    {
                        "key": f"S{n}",
                        "rank": n + 1,
                        "name": "x",
                        "checklist": [f"step {i}" for i in range(190)],
                    }
                    for n in range(40)
                ],
            }
        ),
        "severities: the checklists hold 7,600 lines in all (at most 2,000)",
    ),
}


@pytest.fixture
def world(cast):
    policy.import_policy(policy.load_policy_file(POLICY))
    return cast


def upload(content: str | bytes, name: str) -> SimpleUploadedFile:
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def run_import(path, *args) -> tuple[str, str]:
    """The command's stderr and error message (it must fail)."""
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("policy", "import", str(path), *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue(), str(failed.value)


@pytest.mark.parametrize(("name", "content", "expected"), HOSTILE.values(), ids=HOSTILE)
def test_admin_lists_the_problem_instead_of_a_500(client, world, name, content, expected):
    client.force_login(world.manager)
    before = state()

    response = client.post(IMPORT, {"file": upload(content, name), "mode": "apply"})

    assert response.status_code == 200
    assert state() == before
    problems = response.context["problems"]
    assert any(p.startswith(expected) for p in problems), problems
    assert response.context["problem_heading"].endswith("; nothing was changed.")


@pytest.mark.parametrize(("name", "content", "expected"), HOSTILE.values(), ids=HOSTILE)
def test_command_prints_the_problem_instead_of_a_traceback(
    world, tmp_path, name, content, expected
):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8", "surrogatepass"))
    before = state()

    err, message = run_import(path)

    assert state() == before
    assert message.startswith("policy import failed: ")
    assert message.endswith("; nothing was changed")
    # Problems with the file as a whole are named by its path.
    expected = expected.replace(name, str(path), 1) if expected.startswith(name) else expected
    assert any(line.startswith(expected) for line in err.splitlines()), err


def test_command_refuses_a_file_that_is_not_utf8(world, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(
        "version: 1\nseverities:\n  - {key: SEV-1, rank: 1, name: Très}\n".encode("latin-1")
    )

    err, message = run_import(path)

    assert err.strip() == (
        f"{path} is not UTF-8 text (byte 57 is 0xe8); a policy file is YAML or JSON."
    )
    assert message == "policy import failed: 1 problem; nothing was changed"


def test_one_size_cap_for_the_command_and_the_admin(client, world, tmp_path):
    """The command refuses a file over the admin's cap before reading it as YAML."""
    big = "#" + "x" * (policy.MAX_FILE_BYTES + 10) + "\nversion: 1\n"
    path = tmp_path / "big.yaml"
    path.write_text(big)

    started = time.perf_counter()
    err, _ = run_import(path)
    assert time.perf_counter() - started < 5  # refused on its size, not parsed

    expected = (
        f"The file is more than {policy.MAX_FILE_BYTES:,} bytes; a policy file may be at most "
        f"1 MB ({policy.MAX_FILE_BYTES:,} bytes)."
    )
    assert err.strip() == f"{path}: {expected}"

    client.force_login(world.manager)
    response = client.post(IMPORT, {"file": upload(big, "big.yaml"), "mode": "apply"})
    assert response.context["form"].errors["file"] == [
        expected.replace("more than ", "").replace(
            f"{policy.MAX_FILE_BYTES:,} bytes;", f"{len(big):,} bytes;", 1
        )
    ]


def test_stdin_has_the_same_cap(world, monkeypatch):
    class Stdin:
        buffer = io.BytesIO(b"#" * (policy.MAX_FILE_BYTES + 1))

    monkeypatch.setattr("sys.stdin", Stdin)
    err, _ = run_import("-")
    assert err.startswith("stdin: The file is more than")


# A few hundred bytes: every level lists the one before ten times, so the entries of
# "severities" hold lists of 10,000 values each, under the expansion cap. Quoting them
# whole gave a 9 MB error page.
ALIAS_FILE = (
    "a: &a [xxxxxxxx, xxxxxxxx, xxxxxxxx, xxxxxxxx, xxxxxxxx, xxxxxxxx, xxxxxxxx, xxxxxxxx]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "version: 1\n"
    "severities: [*d, *d, *d, *d, *d, *d]\n"
    "incident_types: [{key: *d, name: *d, description: *d}]\n"
)


def test_a_small_alias_file_gives_a_small_error_page(client, world, tmp_path):
    assert len(ALIAS_FILE) < 400
    client.force_login(world.manager)

    response = client.post(IMPORT, {"file": upload(ALIAS_FILE, "alias.yaml"), "mode": "apply"})

    assert response.status_code == 200
    assert len(response.content) < 40_000
    problems = response.context["problems"]
    assert problems[0].startswith('unknown section "a"')
    assert 'severities[0]: expected a mapping of fields, got [[[["xxxxxxxx", ' in problems[4]
    assert all(len(p) <= policy.problems.MAX_PROBLEM_CHARS for p in problems)
    assert "incident_types[0].key: " in "\n".join(problems)

    path = tmp_path / "alias.yaml"
    path.write_text(ALIAS_FILE)
    err, _ = run_import(path)
    assert len(err) < 10_000
    assert err.splitlines() == problems


def test_problems_past_the_limit_are_counted_not_listed(client, world, tmp_path):
    doc = {
        "version": 1,
        "severities": [{"key": f"S{n}", "rank": "high", "name": "x"} for n in range(200)],
    }
    client.force_login(world.manager)

    response = client.post(IMPORT, {"file": upload(json.dumps(doc), "many.json"), "mode": "apply"})

    assert response.context["problem_heading"] == (
        "many.json has 200 problems; nothing was changed."
    )
    problems = response.context["problems"]
    assert len(problems) == policy.MAX_PROBLEMS + 1
    assert problems[0] == 'severities[0] (S0).rank: "high" is not a whole number'
    assert problems[-1] == "... and 150 more (fix these and try again)"

    path = tmp_path / "many.json"
    path.write_text(json.dumps(doc))
    err, message = run_import(path)
    assert err.splitlines() == problems
    assert message == "policy import failed: 200 problems; nothing was changed"
