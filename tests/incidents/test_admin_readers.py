"""Defect 14: people who only read incidents (Support, Leadership) saw a lone "Close" button,
which reads like "close the incident", and help text about buttons they do not have; and a
bad id on an action URL gave a bare "Not Found" where the change view redirects with a
message."""

import pytest
from django.contrib import messages
from django.urls import reverse

from ircore import roles

from .test_admin import sent_messages, url

ACTION_URLS = ["acknowledge", "status", "severity", "role", "checklist", "note", "security"]


@pytest.mark.parametrize("group", [roles.SUPPORT, roles.LEADERSHIP])
def test_readers_get_back_to_list_not_a_lone_close(client, declare, make_user, group):
    incident = declare()
    client.force_login(make_user("reader", group))

    html = client.get(url("change", incident.pk)).content.decode()

    assert 'class="closelink"' not in html and ">Close<" not in html
    assert f'<a href="{url("changelist")}" class="ir-back-link">Back to list</a>' in html
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    # No help about buttons or corrections the reader does not have.
    assert "buttons above" not in html
    assert "Corrections must keep the order" not in html
    assert "ir-actions" not in html and "ir-note-form" not in html


def test_editors_help_names_only_their_buttons(client, declare, people):
    incident = declare()
    client.force_login(people.manager)
    html = client.get(url("change", incident.pk)).content.decode()
    assert "Severity and status change only with the buttons above." in html
    assert "Corrections must keep the order" in html
    assert 'name="_save"' in html


@pytest.mark.parametrize("bad_id", ["999999", "not-a-number", "9" * 40])
@pytest.mark.parametrize("name", ["change", *ACTION_URLS])
def test_a_bad_id_goes_to_the_list_with_a_message(client, people, severities, name, bad_id):
    client.force_login(people.manager)

    for method in ("get", "post"):
        response = getattr(client, method)(f"/admin/incidents/incident/{bad_id}/{name}/")

        assert response.status_code == 302, (name, method)
        assert response["Location"] == url("changelist")
        assert (
            messages.WARNING,
            f"There is no incident with id “{bad_id}”; here is the list.",
        ) in sent_messages(client.get(response["Location"]))


def test_a_bad_id_is_still_403_for_someone_without_the_verb(client, make_user, severities):
    # Someone who may not acknowledge learns nothing about which ids exist.
    client.force_login(make_user("reader", roles.SUPPORT))
    assert client.post("/admin/incidents/incident/999999/acknowledge/").status_code == 403


def test_timeline_entry_page_has_back_to_list_not_close(client, declare, people):
    incident = declare()
    entry = incident.timeline.first()
    client.force_login(people.manager)

    html = client.get(
        reverse("admin:incidents_timelineentry_change", args=[entry.pk])
    ).content.decode()

    assert 'class="closelink"' not in html and ">Close<" not in html
    assert "Back to list" in html
