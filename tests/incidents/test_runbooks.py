"""Seeded runbooks: the loader, its command, and sanitised rendering."""

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from incidents import selectors
from incidents.markdown import render_markdown
from incidents.models import Runbook
from incidents.runbooks import RunbookFileError, load_runbooks, read_runbooks
from ircore.models import IncidentType, Service

SEEDED = Path(settings.BASE_DIR) / "runbooks"
POLICY = Path(settings.BASE_DIR) / "policies" / "default.yaml"

GOOD = """---
title: Payment processor down
slug: payment-processor-down
services: [payments-api, no-such-service]
incident_types: [integration-failure]
---
## Mitigate

Switch to the backup processor.
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def linked(db):
    """The catalog and types the seeded runbooks name (the demo services, the policy types)."""
    for slug in ("payments-api", "settlement", "merchant-dashboard", "webhooks", "internal-admin"):
        Service.objects.create(name=slug.replace("-", " ").title(), slug=slug)
    for entry in yaml.safe_load(POLICY.read_text())["incident_types"]:
        IncidentType.objects.create(key=entry["key"], name=entry["name"])


def state():
    return sorted(
        (
            rb.slug,
            rb.title,
            rb.body,
            sorted(rb.services.values_list("slug", flat=True)),
            sorted(rb.incident_types.values_list("key", flat=True)),
            rb.history.count(),
        )
        for rb in Runbook.objects.all()
    )


def test_seeded_runbooks_parse_and_name_only_known_policy_types():
    files = read_runbooks(SEEDED)
    assert 5 <= len(files) <= 7
    policy_types = {t["key"] for t in yaml.safe_load(POLICY.read_text())["incident_types"]}
    for runbook in files:
        assert runbook.incident_types, runbook.path.name
        assert set(runbook.incident_types) <= policy_types, runbook.path.name
        assert runbook.path.stem == runbook.slug


def test_loading_seeded_runbooks_links_them_and_is_idempotent(linked):
    first = load_runbooks(SEEDED)
    assert len(first.created) == Runbook.objects.count() == len(read_runbooks(SEEDED))
    assert first.warnings == []
    processor = Runbook.objects.get(slug="payment-processor-down")
    assert sorted(processor.services.values_list("slug", flat=True)) == [
        "payments-api",
        "settlement",
    ]
    assert "integration-failure" in processor.incident_types.values_list("key", flat=True)
    security = Runbook.objects.get(slug="security-incident")
    assert set(security.incident_types.values_list("key", flat=True)) == {
        "security-breach",
        "data-privacy-incident",
    }
    before = state()

    second = load_runbooks(SEEDED)
    assert (second.created, second.updated) == ([], [])
    assert sorted(second.unchanged) == sorted(first.created)
    assert state() == before  # nothing saved again, not even a history row


def test_changes_in_the_file_update_the_row(tmp_path, linked):
    path = write(tmp_path, "processor.md", GOOD)
    summary = load_runbooks(tmp_path)
    assert summary.created == ["payment-processor-down"]
    assert summary.warnings == ["processor.md: unknown service 'no-such-service' skipped."]
    runbook = Runbook.objects.get()
    assert list(runbook.services.values_list("slug", flat=True)) == ["payments-api"]
    assert runbook.body == "## Mitigate\n\nSwitch to the backup processor.\n"

    path.write_text(
        GOOD.replace("Payment processor down", "Card processor down").replace(
            "[payments-api, no-such-service]", "[settlement]"
        )
    )
    summary = load_runbooks(tmp_path)
    assert summary.updated == ["payment-processor-down"]
    runbook.refresh_from_db()
    assert runbook.title == "Card processor down"
    assert list(runbook.services.values_list("slug", flat=True)) == ["settlement"]
    assert Runbook.objects.count() == 1


def test_unknown_types_are_skipped_with_a_warning(tmp_path, db):
    write(tmp_path, "one.md", GOOD)
    summary = load_runbooks(tmp_path)
    assert summary.warnings == [
        "one.md: unknown service 'payments-api' skipped.",
        "one.md: unknown service 'no-such-service' skipped.",
        "one.md: unknown incident type 'integration-failure' skipped.",
    ]
    runbook = Runbook.objects.get()
    assert not runbook.services.exists()
    assert not runbook.incident_types.exists()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("# No front matter\n\nText.\n", "front matter"),
        ("---\ntitle: x\nslug: x\nText without a closing fence\n", "front matter"),
        ("---\ntitle: [unclosed\nslug: x\n---\nText\n", "front matter"),
        ("---\n- a list\n---\nText\n", "front matter"),
        ("---\nslug: no-title\n---\nText\n", "title"),
        ("---\ntitle: No slug\n---\nText\n", "slug"),
        ("---\ntitle: Bad slug\nslug: not a slug!\n---\nText\n", "slug"),
        ("---\ntitle: Typo\nslug: typo\nservice: [payments-api]\n---\nText\n", "service"),
        ("---\ntitle: Wrong list\nslug: wrong\nservices: payments-api\n---\nText\n", "services"),
        (
            "---\ntitle: Numbers\nslug: numbers\nincident_types: [1, 2]\n---\nText\n",
            "incident_types",
        ),
        ("---\ntitle: Empty\nslug: empty\n---\n\n  \n", "body"),
    ],
)
def test_bad_file_is_refused_naming_file_and_field_and_nothing_changes(
    tmp_path, linked, text, field
):
    write(tmp_path, "a-good.md", GOOD)
    write(tmp_path, "b-bad.md", text)
    with pytest.raises(RunbookFileError) as refused:
        load_runbooks(tmp_path)
    assert refused.value.field == field
    assert refused.value.message.startswith(f"b-bad.md: {field}:")
    assert not Runbook.objects.exists()  # the good file was not loaded either


def test_duplicate_slugs_are_refused(tmp_path, db):
    write(tmp_path, "one.md", GOOD)
    write(tmp_path, "two.md", GOOD)
    with pytest.raises(RunbookFileError, match="two.md: slug: .* also the slug of one.md"):
        load_runbooks(tmp_path)
    assert not Runbook.objects.exists()


def test_command_loads_the_repository_runbooks_by_default(linked):
    out, err = StringIO(), StringIO()
    call_command("load_runbooks", stdout=out, stderr=err)
    count = len(read_runbooks(SEEDED))
    assert Runbook.objects.count() == count
    assert f"{count} created, 0 updated, 0 unchanged, 0 warnings" in out.getvalue()
    assert err.getvalue() == ""

    out = StringIO()
    call_command("load_runbooks", str(SEEDED), stdout=out)
    assert f"0 created, 0 updated, {count} unchanged" in out.getvalue()


def test_command_reports_warnings_on_stderr(tmp_path, db):
    write(tmp_path, "one.md", GOOD)
    out, err = StringIO(), StringIO()
    call_command("load_runbooks", str(tmp_path), stdout=out, stderr=err)
    assert "unknown service 'no-such-service' skipped" in err.getvalue()
    assert "1 created" in out.getvalue()


def test_command_turns_a_bad_file_into_a_command_error(tmp_path, db):
    write(tmp_path, "broken.md", "---\ntitle: Broken\n---\nText\n")
    with pytest.raises(CommandError, match=r"broken.md: slug: required"):
        call_command("load_runbooks", str(tmp_path))
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("load_runbooks", str(tmp_path / "missing"))
    assert not Runbook.objects.exists()


def test_runbook_markdown_is_rendered_without_script_or_javascript_links(tmp_path, db):
    write(
        tmp_path,
        "evil.md",
        "---\ntitle: Evil\nslug: evil\n---\n"
        "# Steps\n\n<script>alert('x')</script>\n\n"
        "[click me](javascript:alert(1)) and [status](https://status.example.com)\n\n"
        '<a href="javascript:alert(2)" onclick="steal()">raw link</a>\n\n'
        "| step | who |\n| --- | --- |\n| roll back | IC |\n",
    )
    load_runbooks(tmp_path)
    html = str(render_markdown(Runbook.objects.get().body))
    assert "<h1>Steps</h1>" in html
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onclick" not in html
    link = '<a href="https://status.example.com" rel="noopener noreferrer nofollow">status</a>'
    assert link in html
    assert "<td>roll back</td>" in html


def test_every_seeded_runbook_renders_clean(linked):
    load_runbooks(SEEDED)
    for runbook in Runbook.objects.all():
        html = str(render_markdown(runbook.body))
        assert html.startswith("<"), runbook.slug
        assert "<script" not in html


def test_runbooks_for_an_incident_come_from_its_services_and_type(linked):
    from incidents import services
    from ircore.models import Severity

    load_runbooks(SEEDED)
    severity = Severity.objects.create(key="SEV-2", rank=2, name="High")
    incident = services.incident_declare(
        title="Payouts wrong",
        severity=severity,
        services=[Service.objects.get(slug="settlement")],
        incident_type=IncidentType.objects.get(key="data-loss-or-corruption"),
    )
    slugs = set(selectors.runbooks_for(incident).values_list("slug", flat=True))
    assert {"data-integrity", "payment-processor-down", "database-availability"} <= slugs
    assert "ddos-traffic-spike" not in slugs
