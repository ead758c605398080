"""The ``templates`` section of the policy file: export and import round trip, every entry
checked like the admin checks it (a bad template changes nothing and is named), removals, and
the shipped defaults loaded on bootstrap."""

import copy
from io import StringIO

import pytest
from django.core.management import call_command

from comms.models import Audience, Notice, Template
from comms.services.templates import load_default_templates
from ircore import policy
from ircore.policy import PolicyError
from tests.comms.templates_world import POLICIES, build, load_policy

DEFAULT = POLICIES / "default.yaml"


def file_templates(path=DEFAULT) -> list[dict]:
    """The file's templates as an import stores them (the subject trimmed; a body is kept
    as written)."""
    return [
        {**t, "subject": t["subject"].strip()} for t in policy.load_policy_file(path)["templates"]
    ]


def state():
    return policy.export_policy(), Template.history.count()


def problems_of(document) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        policy.import_policy(document)
    return caught.value.problems


@pytest.fixture
def loaded(db):
    load_policy()
    return copy.deepcopy(policy.load_policy_file(DEFAULT))


def by_name(templates):
    return {t["name"]: t for t in templates}


def test_export_is_what_the_file_says_and_imports_back_unchanged(loaded):
    exported = policy.export_policy()["templates"]
    assert exported == file_templates()  # in the file's order, too

    before = state()
    text = policy.dumps_policy(policy.export_policy(), "yaml")
    summary = policy.import_policy(policy.loads_policy(text, "yaml"))
    assert str(summary.counts["templates"]) == "0 created, 0 updated, 0 deleted"
    assert not summary.changed
    assert state() == before


def test_import_creates_updates_and_removes_with_history(loaded, cast):
    document = loaded
    templates = document["templates"]
    templates[0]["body"] = "Now {{ status }}."
    removed = templates.pop(1)["name"]
    templates.append(
        {
            "name": "Executive briefing",
            "kind": "executive_briefing",
            "audience": "executives",
            "subject": "{{ severity.key }} {{ title }}",
            "body": "Impact: {{ financial_impact|number }}; IC {{ ic }}.",
        }
    )

    summary = policy.import_policy(document, user=cast.manager)

    assert str(summary.counts["templates"]) == "1 created, 1 updated, 1 deleted"
    assert not Template.objects.filter(name=removed).exists()
    created = Template.objects.get(name="Executive briefing")
    assert (created.active, created.audience) == (True, Audience.EXECUTIVES)
    changed = Template.objects.get(name=templates[0]["name"])
    assert changed.body == "Now {{ status }}."
    latest = changed.history.latest("history_id")
    assert (latest.history_user, latest.history_change_reason) == (cast.manager, "policy import")
    gone = Template.history.get(name=removed, history_type="-")
    assert gone.history_user == cast.manager


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            {"body": "Hello {{ sevrity.key }}"},
            'templates[0] (Incident declared).body: line 1: "sevrity" is not a placeholder; '
            'did you mean "severity"?',
        ),
        (
            {"subject": "{{ severity.nmae }}"},
            "templates[0] (Incident declared).subject: line 1: severity.nmae is not a "
            'placeholder; did you mean "name"?',
        ),
        (
            {"body": "{% if x %}"},
            "templates[0] (Incident declared).body: line 1: Unexpected end of template",
        ),
        (
            {"body": "{{ title.__class__ }}"},
            'templates[0] (Incident declared).body: line 1: "__class__": names beginning',
        ),
        (
            {"body": "{% for i in range(10**9) %}x{% endfor %}"},
            "templates[0] (Incident declared).body: with the example values: range() gives",
        ),
        (
            {"kind": "announcement"},
            'templates[0] (Incident declared).kind: "announcement" is not one of declared,',
        ),
        (
            {"audience": "everyone"},
            'templates[0] (Incident declared).audience: "everyone" is not one of internal, '
            "customers, executives",
        ),
        ({"subject": ""}, "templates[0] (Incident declared).subject: must not be empty"),
        ({"body": None}, "templates[0] (Incident declared).body: is required"),
        ({"active": "yes"}, 'templates[0] (Incident declared).active: "yes" is not true or false'),
        ({"colour": "red"}, 'templates[0] (Incident declared).colour: unknown field "colour"'),
        (
            {"name": "Ongoing update"},
            'templates[1] (Ongoing update).name: "Ongoing update" is used twice (also '
            "templates[0] (Ongoing update))",
        ),
    ],
)
def test_a_bad_template_is_named_and_changes_nothing(loaded, entry, problem):
    loaded["templates"][0].update(entry)
    before = state()

    found = problems_of(loaded)

    assert any(p.startswith(problem) for p in found), found
    assert state() == before


def test_a_template_notices_were_drafted_from_can_go_and_the_notices_keep_their_text(
    cast,
):
    world = build(cast)
    template = Template.objects.get(name="Initial alert")
    notice = Notice.objects.create(
        incident=world.incident,
        audience=Audience.INTERNAL,
        template=template,
        subject="Alert",
        body="The text as drafted",
    )
    document = policy.load_policy_file(DEFAULT)
    document["templates"] = [t for t in document["templates"] if t["name"] != "Initial alert"]

    summary = policy.import_policy(document)

    assert str(summary.counts["templates"]) == "0 created, 0 updated, 1 deleted"
    notice.refresh_from_db()
    assert (notice.template, notice.body) == (None, "The text as drafted")


def test_a_file_without_the_section_leaves_the_templates_alone(loaded):
    before = state()
    del loaded["templates"]
    summary = policy.import_policy(loaded)
    assert "templates" not in summary.counts
    assert state() == before


def test_defaults_load_once_when_an_install_has_none(db):
    load_policy("p0-p3.yaml")
    Template.objects.all().delete()  # an install whose policy predates templates

    assert load_default_templates() == "Templates: loaded 11 from default.yaml."
    assert by_name(policy.export_policy()["templates"]) == by_name(file_templates())
    assert load_default_templates() == "Templates: already present; left as is."
    assert Template.objects.count() == 11


def test_bootstrap_loads_the_default_templates_with_the_default_policy(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("bootstrap", "--no-demo", stdout=out)

    assert "templates: 11 created" in out.getvalue()
    assert "Templates: already present; left as is." in out.getvalue()
    assert Template.objects.filter(active=True).count() == 11
