"""What a resolved or closed incident's page offers: the verb table says a closed incident
takes notes only, so its page shows the note form and no other button, its edit form and
inlines are read-only, and every other action view and list action refuses it with the
reason (a rule of the incident, not a missing permission)."""

from django.contrib import messages

from incidents import services

from .conftest import at
from .test_admin import post_action, sent_messages, url

ACTIONS = {
    "acknowledge": {},
    "status": {"status": "investigating"},
    "severity": {"severity": "", "reason": "x"},
    "role": {"role": "sme", "user": ""},
    "checklist": {"item": "", "done": "1"},
    "security": {"checkpoint": "evidence_preserved"},
}


def closed(declare, people, **kwargs):
    incident = declare(**kwargs, now=at(0))
    services.incident_acknowledge(incident=incident, user=people.manager, now=at(1))
    services.incident_set_status(incident=incident, status="resolved", user=people.manager)
    services.incident_set_status(incident=incident, status="closed", user=people.manager)
    return incident


def test_a_closed_incident_shows_only_the_note_form(client, declare, people, security_type):
    incident = closed(declare, people, incident_type=security_type)
    client.force_login(people.manager)

    html = client.get(url("change", incident.pk)).content.decode()

    assert f'action="{url("note", incident.pk)}"' in html
    for name in ACTIONS:
        assert url(name, incident.pk) not in html, name
    assert "ir-actions" not in html and "Move to:" not in html
    # The form is read-only: no save buttons, no editable inline, no help about buttons.
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert 'name="checklist-0-done"' not in html and "affected-0-DELETE" not in html
    assert "only with the buttons above" not in html
    assert "Corrections must keep the order" not in html
    assert "Back to list" in html


def test_a_closed_incident_refuses_every_action_but_notes(client, declare, people):
    incident = closed(declare, people)
    client.force_login(people.manager)
    before = incident.timeline.count()

    for name, data in ACTIONS.items():
        for method, payload in (("get", {}), ("post", data)):
            response = getattr(client, method)(url(name, incident.pk), payload)
            assert response.status_code == 302, name
            assert response["Location"] == url("change", incident.pk)
            assert (
                messages.ERROR,
                f"{incident.reference} is closed; a closed incident takes notes only.",
            ) in sent_messages(client.get(response["Location"]))
    assert client.post(url("change", incident.pk), {"title": "Renamed"}).status_code == 403
    assert incident.timeline.count() == before

    noted = client.post(url("note", incident.pk), {"kind": "note", "text": "Postmortem: …"})
    assert noted.status_code == 302
    assert incident.timeline.count() == before + 1


def test_list_actions_refuse_closed_incidents_one_by_one(client, declare, people):
    open_one, done = declare("Open"), closed(declare, people, title="Done")
    client.force_login(people.manager)

    post_action(client, "acknowledge_selected", [open_one, done])

    [(level, text)] = sent_messages(client.get(url("changelist")))
    assert level == messages.ERROR
    assert text == (
        f"1 incident acknowledged; 1 refused: {done.reference} is closed; a closed incident "
        "takes notes only."
    )
    post_action(client, "add_note_selected", [open_one, done], kind="note", text="Both")
    assert done.timeline.filter(text="Both").exists()


def test_a_resolved_incident_offers_no_acknowledgement(client, declare, people):
    incident = declare(now=at(0))
    services.incident_set_status(incident=incident, status="resolved", user=people.manager)
    client.force_login(people.manager)

    html = client.get(url("change", incident.pk)).content.decode()

    assert url("acknowledge", incident.pk) not in html
    # What still applies to a resolved incident: reopen or close, corrections, notes.
    assert f"{url('status', incident.pk)}?status=closed" in html
    assert f"{url('status', incident.pk)}?status=investigating" in html
    assert f'action="{url("note", incident.pk)}"' in html
    assert 'name="_save"' in html
