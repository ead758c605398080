"""Switching severity scheme on an install with history: ``policy import FILE --map
SEV-1=P0,...`` (and the admin's severity map) moves incidents to the new levels in the
import's transaction, each move in the incident's history; a bad map changes nothing."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from incidents import services
from incidents.models import ChecklistItem, Incident
from ircore import policy
from ircore.models import Service, Severity
from tests.ircore.test_policy import DEFAULT, P0_P3, state

IMPORT = reverse("admin:ircore_severity_policy_import")
FULL_MAP = "SEV-1=P0,SEV-2=P1,SEV-3=P2,SEV-4=P3"


@pytest.fixture
def history(db, cast):
    """The default policy and three incidents at SEV-1, SEV-2 and SEV-3, declared through
    the service (so they carry their level's checklist)."""
    policy.import_policy(policy.load_policy_file(DEFAULT))
    api = Service.objects.create(name="Payments API", slug="payments-api")
    made = {}
    for key in ("SEV-1", "SEV-2", "SEV-3"):
        made[key] = services.incident_declare(
            title=f"Down at {key}",
            severity=Severity.objects.get(key=key),
            services=[api],
            user=cast.responder,
        )
    return made


def everything():
    """The policy, its history, and each incident's level, history and checklist."""
    incidents = [
        (
            i.reference,
            i.severity_id,
            i.history.count(),
            list(i.checklist.values_list("text", "severity_key")),
        )
        for i in Incident.objects.order_by("pk")
    ]
    return state(), incidents


def import_command(*args) -> str:
    out = io.StringIO()
    call_command("policy", "import", str(P0_P3), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refused(*args) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("policy", "import", str(P0_P3), *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def test_without_a_map_the_switch_is_refused_naming_each_level_in_use(history):
    before = everything()

    err = refused()

    for key in ("SEV-1", "SEV-2", "SEV-3"):
        assert f"map {key} to a level of the file to move them there" in err
    assert "SEV-4" not in err  # unused: it may simply go
    assert everything() == before


def test_the_map_moves_every_incident_recording_why_in_its_history(history, cast):
    checklists = {
        ref: list(i.checklist.values_list("text", flat=True))
        for ref, i in ((i.reference, i) for i in history.values())
    }

    out = import_command("--map", FULL_MAP)

    assert "moved SEV-1 -> P0: 1 incident" in out
    assert "moved SEV-3 -> P2: 1 incident" in out
    assert list(Severity.objects.values_list("key", flat=True)) == ["P0", "P1", "P2", "P3"]
    for old, new in (("SEV-1", "P0"), ("SEV-2", "P1"), ("SEV-3", "P2")):
        incident = Incident.objects.get(pk=history[old].pk)
        assert incident.severity.key == new
        last = incident.history.latest("history_id")
        assert (last.history_type, last.severity.key) == ("~", new)
        assert last.history_change_reason == f"policy import: {old} -> {new}"
        previous = last.prev_record
        assert previous.severity_id == history[old].severity_id
        # Checklist items keep their text (and the level whose checklist added them).
        items = list(incident.checklist.order_by("position"))
        assert [i.text for i in items] == checklists[incident.reference]
        assert {i.severity_key for i in items} == {old}
    assert not ChecklistItem.objects.filter(template_item__severity__key__startswith="SEV").exists()


def test_a_partial_map_is_enough_when_unused_levels_simply_go(history):
    import_command("--map", "SEV-1=P0, SEV-2=P0, SEV-3=P3")

    keys = dict(Incident.objects.values_list("title", "severity__key"))
    assert keys == {"Down at SEV-1": "P0", "Down at SEV-2": "P0", "Down at SEV-3": "P3"}


def test_a_dry_run_with_a_map_counts_the_moves_and_changes_nothing(history):
    before = everything()

    out = import_command("--map", FULL_MAP, "--dry-run")

    assert "Dry run" in out and "moved SEV-2 -> P1: 1 incident" in out
    assert "severities: 4 created, 0 updated, 4 deleted" in out
    assert everything() == before


BAD_MAPS = {
    "unknown old level": (
        FULL_MAP + ",SEV-9=P0",
        "map (SEV-9=P0): SEV-9 is not a severity of this install "
        "(it has SEV-1, SEV-2, SEV-3, SEV-4)",
    ),
    "unknown new level": (
        "SEV-1=P0,SEV-2=P9,SEV-3=P2",
        "map (SEV-2=P9): P9 is not a severity in the file (it has P0, P1, P2, P3)",
    ),
    "a used level left unmapped": (
        "SEV-1=P0,SEV-2=P1",
        "severities: SEV-3 Medium is not in the file but cannot be removed: still referenced "
        "by 1 incident (INC-",
    ),
    "not OLD=NEW": ("SEV-1=P0,SEV-2", 'map[1]: "SEV-2" is not OLD=NEW (e.g. SEV-1=P0)'),
    "a level mapped twice": ("SEV-1=P0,SEV-1=P1", "map[1] (SEV-1): SEV-1 is mapped twice"),
}


@pytest.mark.parametrize(("mapping", "expected"), BAD_MAPS.values(), ids=BAD_MAPS)
def test_a_bad_map_is_refused_naming_the_entry_and_changes_nothing(history, mapping, expected):
    before = everything()

    err = refused("--map", mapping)

    assert any(line.startswith(expected) for line in err.splitlines()), err
    assert everything() == before


def test_a_level_the_file_keeps_cannot_be_mapped(history):
    document = policy.load_policy_file(DEFAULT)
    before = everything()

    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy(document, severity_map={"SEV-1": "SEV-2"})

    assert caught.value.problems == [
        "map (SEV-1=SEV-2): SEV-1 stays in the file; only a level the file removes can be mapped"
    ]
    assert everything() == before


def test_a_map_needs_a_severities_section(history):
    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy({"version": 1, "incident_types": []}, severity_map={"SEV-1": "P0"})
    assert "map: the file has no severities section to map the levels to" in caught.value.problems


# --- The admin's import form ---


def upload_p0_p3() -> SimpleUploadedFile:
    return SimpleUploadedFile("p0-p3.yaml", P0_P3.read_bytes())


def test_admin_dry_run_shows_the_map_then_apply_moves_as_the_manager(client, history, cast):
    client.force_login(cast.manager)
    before = everything()

    preview = client.post(
        IMPORT, {"file": upload_p0_p3(), "severity_map": FULL_MAP, "mode": "dry_run"}
    )

    assert preview.status_code == 200
    assert everything() == before
    page = re.sub(r"\s+", " ", preview.content.decode())
    assert "SEV-1 → P0" in page
    assert "SEV-1 -&gt; P0: 1 incident" in page
    assert preview.context["summary"].moved == [
        "SEV-1 -> P0: 1 incident",
        "SEV-2 -> P1: 1 incident",
        "SEV-3 -> P2: 1 incident",
    ]

    response = client.post(IMPORT, {"payload": preview.context["payload"], "_apply": "Apply"})

    assert response.status_code == 302
    incident = Incident.objects.get(pk=history["SEV-2"].pk)
    assert incident.severity.key == "P1"
    last = incident.history.latest("history_id")
    assert (last.history_user, last.history_change_reason) == (
        cast.manager,
        "policy import: SEV-2 -> P1",
    )


def test_admin_refuses_a_bad_map(client, history, cast):
    client.force_login(cast.manager)
    before = everything()

    response = client.post(
        IMPORT, {"file": upload_p0_p3(), "severity_map": "SEV-1", "mode": "apply"}
    )
    assert response.context["form"].errors == {
        "severity_map": ['map[0]: "SEV-1" is not OLD=NEW (e.g. SEV-1=P0)']
    }

    response = client.post(
        IMPORT, {"file": upload_p0_p3(), "severity_map": "SEV-1=P0", "mode": "apply"}
    )
    assert response.status_code == 200
    assert [p.split(":")[0] for p in response.context["problems"]] == ["severities"] * 2
    assert everything() == before


def test_a_moved_incident_keeps_a_history_that_opens(history, admin_client):
    """Its older history rows name a level that is gone; the history pages still open."""
    import_command("--map", FULL_MAP)
    incident = Incident.objects.get(pk=history["SEV-1"].pk)
    first = incident.history.earliest("history_id")

    pages = [
        reverse("admin:incidents_incident_history", args=[incident.pk]),
        reverse("admin:incidents_incident_simple_history", args=[incident.pk, first.history_id]),
    ]
    assert [admin_client.get(page).status_code for page in pages] == [200, 200]


def test_the_map_moves_integrations_routing_rules_and_alerts_too(history, cast):
    """Detection holds levels too (an integration's default, a routing rule, an alert): a
    scheme switch with a map moves them, where before they blocked removing the level."""
    from incidents.alerts.models import Alert, Integration, RoutingRule

    sev1 = Severity.objects.get(key="SEV-1")
    # The default policy's integration, which the p0-p3 file keeps.
    integration = Integration.objects.get(name="Prometheus Alertmanager")
    integration.severity = sev1
    integration.save()
    rule = RoutingRule.objects.create(
        integration=integration, position=1, label="severity", value="critical", severity=sev1
    )
    alert = Alert.objects.create(
        integration=integration, dedup_key="k", summary="Down", severity=sev1, raw={}
    )

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("policy", "import", str(P0_P3), "--map", FULL_MAP, stdout=out, stderr=err)
    except CommandError:
        pytest.fail(err.getvalue())
    out = out.getvalue()

    p0 = Severity.objects.get(key="P0")
    assert "SEV-1 -> P0" in out
    assert Alert.objects.get(pk=alert.pk).severity == p0
    # The file's integrations section then says what the integration is: no default level,
    # no rules (they were moved first, so nothing blocked removing SEV-1).
    assert Integration.objects.get(pk=integration.pk).severity is None
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()
