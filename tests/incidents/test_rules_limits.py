"""Bounded text (notes, summaries, reasons) and the chat channel name convention, each refused
with its field named and nothing changed."""

import pytest

from incidents import services
from incidents.models import Incident, TimelineEntry
from incidents.services import channel_name_for, check_channel_name
from ircore.errors import RuleError

from .conftest import T0, at

NOTE_LIMIT = TimelineEntry.NOTE_LIMIT
SUMMARY_LIMIT = Incident.SUMMARY_LIMIT


def test_the_limits_are_ten_thousand_characters():
    assert (NOTE_LIMIT, SUMMARY_LIMIT) == (10_000, 10_000)
    # Forms read the summary's limit from the field (a maxlength on the text area).
    assert Incident._meta.get_field("summary").max_length == SUMMARY_LIMIT


def test_a_note_at_the_limit_is_kept_and_one_over_is_refused(declare, people):
    incident = declare()
    entry = services.note_add(
        incident=incident, kind="note", text="x" * NOTE_LIMIT, user=people.responder, now=at(1)
    )
    assert len(entry.text) == NOTE_LIMIT
    with pytest.raises(RuleError) as refused:
        services.note_add(
            incident=incident,
            kind="note",
            text="x" * (NOTE_LIMIT + 1),
            user=people.responder,
            now=at(2),
        )
    assert refused.value.field == "text"
    assert refused.value.message == "At most 10,000 characters (this is 10,001)."
    assert incident.timeline.count() == 2


def test_a_long_word_note_is_refused_before_it_reaches_the_page(declare, people):
    incident = declare()
    with pytest.raises(RuleError) as refused:
        services.note_add(incident=incident, kind="decision", text="A" * 100_000, user=None)
    assert refused.value.field == "text"


def test_a_summary_over_the_limit_is_refused_on_declare_and_on_edit(declare, people):
    with pytest.raises(RuleError) as refused:
        declare(summary="s" * (SUMMARY_LIMIT + 1))
    assert refused.value.field == "summary"
    assert not Incident.objects.exists()

    incident = declare(summary="s" * SUMMARY_LIMIT)
    with pytest.raises(RuleError) as refused:
        services.incident_update(
            incident=incident,
            user=people.manager,
            data={"summary": "t" * (SUMMARY_LIMIT + 1)},
            now=at(5),
        )
    assert refused.value.field == "summary"
    assert Incident.objects.get(pk=incident.pk).summary == "s" * SUMMARY_LIMIT


def test_a_status_note_and_a_severity_reason_are_bounded_too(declare, people, severities):
    incident = declare()
    with pytest.raises(RuleError) as refused:
        services.incident_set_status(
            incident=incident,
            status="investigating",
            user=people.manager,
            note="n" * (NOTE_LIMIT + 1),
            now=at(5),
        )
    assert refused.value.field == "note"
    with pytest.raises(RuleError) as refused:
        services.incident_change_severity(
            incident=incident,
            severity=severities.sev1,
            reason="r" * (NOTE_LIMIT + 1),
            user=people.manager,
            now=at(5),
        )
    assert refused.value.field == "reason"
    fresh = Incident.objects.get(pk=incident.pk)
    assert (fresh.status, fresh.severity, fresh.timeline.count()) == (
        "declared",
        severities.sev2,
        1,
    )


@pytest.mark.parametrize(
    "name",
    [
        "#incident-payments down",  # a space
        '#incident-<script>alert("x")</script>',
        "#incident-Payments-Down",  # uppercase
        "#incident-payments_down",  # underscore
        "#incident-",  # nothing after the prefix
        "incident-payments-down",  # no '#'
        "#payments-down",  # not the incident prefix
        "#incident-" + "a" * 71,  # 81 characters
        "#incident-zahlungsstörung",  # non-ASCII letter
    ],
)
def test_a_channel_name_off_the_convention_is_refused(declare, people, name):
    incident = declare()
    before = incident.channel_name
    with pytest.raises(RuleError) as refused:
        services.incident_update(
            incident=incident, user=people.manager, data={"channel_name": name}, now=at(5)
        )
    assert refused.value.field == "channel_name"
    message = refused.value.message
    assert "#incident-" in message or message == "At most 80 characters (this is 81)."
    assert Incident.objects.get(pk=incident.pk).channel_name == before


@pytest.mark.parametrize(
    "name", ["#incident-2025-03-14-payments-down", "#incident-" + "a" * 70, "#incident-p1", ""]
)
def test_a_channel_name_on_the_convention_is_kept(declare, people, name):
    incident = declare()
    services.incident_update(
        incident=incident, user=people.manager, data={"channel_name": name}, now=at(5)
    )
    assert Incident.objects.get(pk=incident.pk).channel_name == name


@pytest.mark.parametrize(
    "title", ["db_primary down", "Über-Störung: 50% Fehler!", "a" * 300, "!!!", "snake_case_name"]
)
def test_the_channel_made_on_declaration_keeps_the_convention(title):
    name = channel_name_for(T0, title)
    assert check_channel_name(name) == name
