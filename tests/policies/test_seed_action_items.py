"""The ``action_items`` section of each policy file (``policies/*.yaml``): default due days by
priority, read through the real importer into a fresh install. No seed document states days
per priority; each file says where its process speaks of due dates (quoted below) and ships
the tool's defaults, which these tests pin."""

from pathlib import Path

import pytest

from ircore import policy
from postmortems.models import ActionItemDeadline

POLICIES = Path(__file__).resolve().parents[2] / "policies"
FILES = sorted(POLICIES.glob("*.yaml"))
TOOL_DEFAULTS = {"p1": 7, "p2": 14, "p3": 30, "p4": 90}

# What each seed says about action items' due dates, as its file quotes it.
QUOTED = {
    # 000_*: "Format: [Team] [Action] [Owner] [Due date]"
    "default.yaml": "[Due date]",
    "fintech.yaml": "[Due date]",
    # 001_*: "Follow-up owners and deadlines"
    "p0-p3.yaml": "Follow-up owners and deadlines",
    # 002_*: "Create action items for improvements"
    "supply-chain-finance.yaml": "Create action items for improvements",
    # 003_*: "Set due dates based on priority", "Document completion with evidence"
    "notification-service.yaml": "Set due dates based on priority",
    # 004_*: "Track action items in JIRA"
    "team-ownership.yaml": "Track action items in JIRA",
}


def _load(db, path) -> dict:
    document = policy.load_policy_file(path)
    policy.import_policy(document)
    return document


def test_every_file_has_the_section():
    assert {f.name for f in FILES} == set(QUOTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_sets_days_for_every_priority(db, path):
    _load(db, path)
    assert dict(ActionItemDeadline.objects.values_list("priority", "days")) == TOOL_DEFAULTS
    assert QUOTED[path.name] in path.read_text()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_section_round_trips(db, path):
    document = _load(db, path)
    assert policy.export_policy()["action_items"] == document["action_items"]
    assert not policy.import_policy(document).changed


def test_notification_service_asks_for_evidence_which_the_tool_requires(db):
    """003_*: "Document completion with evidence": done without evidence is refused (see
    tests/postmortems/test_action_items.py); the file says so next to its numbers."""
    text = (POLICIES / "notification-service.yaml").read_text()
    assert "Document completion with evidence" in text


@pytest.mark.parametrize(
    "entries,problem",
    [
        ([{"priority": "p9", "days": 3}], 'action_items[0] (p9).priority: "p9" is not a priority'),
        ([{"priority": "p1", "days": 0}], "action_items[0] (p1).days: 0 must be between 1 and 550"),
        (
            [{"priority": "p1", "days": "7d"}],
            'action_items[0] (p1).days: "7d" is not a whole number',
        ),
        (
            [{"priority": "p1", "days": 7}, {"priority": "p1", "days": 8}],
            "action_items[1] (p1).priority",
        ),
        ([{"priority": "p1", "weeks": 1}], 'action_items[0] (p1).weeks: unknown field "weeks"'),
    ],
)
def test_a_bad_section_is_refused_naming_the_entry(db, entries, problem):
    with pytest.raises(policy.PolicyError) as caught:
        policy.import_policy({"version": 1, "action_items": entries})
    assert any(line.startswith(problem) for line in caught.value.problems), caught.value.problems
    assert not ActionItemDeadline.objects.exists()


def test_a_priority_the_file_no_longer_lists_is_removed(db):
    policy.import_policy({"version": 1, "action_items": [{"priority": "p1", "days": 7}]})
    summary = policy.import_policy({"version": 1, "action_items": [{"priority": "p2", "days": 9}]})
    assert str(summary.counts["action_items"]) == "1 created, 0 updated, 1 deleted"
    assert list(ActionItemDeadline.objects.values_list("priority", "days")) == [("p2", 9)]
    assert ActionItemDeadline.history.filter(history_change_reason="policy import").count() == 3
