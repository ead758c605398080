"""Defect 15: every time on the incident pages carries its zone, in the viewer's own zone
(their profile), so two people reading the same moment know it is the same moment."""

import re

import pytest
import time_machine
from django.urls import reverse

from incidents import services
from ircore.models import Profile

from .conftest import T0, at
from .test_admin import url


@pytest.fixture
def viewers(people):
    """The manager reads in Paris (CET in March), the responder in Kolkata (IST)."""
    Profile.objects.update_or_create(user=people.manager, defaults={"time_zone": "Europe/Paris"})
    Profile.objects.update_or_create(user=people.responder, defaults={"time_zone": "Asia/Kolkata"})
    return people


def page(client, user, path):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_the_same_moment_reads_with_each_viewers_zone(client, declare, viewers, security_type):
    with time_machine.travel(T0, tick=False):
        incident = declare(incident_type=security_type, now=T0)  # 09:00 UTC
        services.incident_acknowledge(incident=incident, user=viewers.manager, now=at(32))
        services.note_add(incident=incident, kind="note", text="Looking", user=viewers.manager)

        paris = page(client, viewers.manager, url("change", incident.pk))
        kolkata = page(client, viewers.responder, url("change", incident.pk))
        paris_list = page(client, viewers.manager, url("changelist"))
        kolkata_timeline = page(
            client, viewers.responder, reverse("admin:incidents_timelineentry_changelist")
        )

    # Essentials: declared, acknowledged, the regulator's deadline (72 h later).
    assert "2025-03-14 10:00 CET" in paris and "2025-03-14 14:30 IST" in kolkata
    assert "2025-03-14 10:32 CET" in paris and "2025-03-14 15:02 IST" in kolkata
    assert "deadline 2025-03-17 10:00 CET" in paris
    # The timeline and the read-only record times.
    assert paris.count(" CET") >= 5 and kolkata.count(" IST") >= 5
    # The change list's column and the timeline's own list.
    assert "2025-03-14 10:00 CET" in paris_list
    assert "2025-03-14 14:30 IST" in kolkata_timeline


def test_edit_form_and_action_forms_name_the_zone_they_read(client, declare, viewers):
    incident = declare()

    paris = page(client, viewers.manager, url("change", incident.pk))
    assert "In Europe/Paris (CET)." in paris  # help text of every lifecycle time input

    note_form = page(client, viewers.responder, url("note", incident.pk))
    assert "in Asia/Kolkata (IST)" in note_form
    role_form = page(client, viewers.responder, url("role", incident.pk))
    assert "in Asia/Kolkata (IST)" in role_form


def test_a_note_time_is_read_in_the_viewers_zone(client, declare, viewers):
    incident = declare(now=T0)
    client.force_login(viewers.manager)

    client.post(
        url("note", incident.pk),
        {"kind": "note", "text": "Paris time", "occurred_at": "2025-03-14T10:20"},
    )

    assert incident.timeline.get(text="Paris time").occurred_at == at(20)  # 09:20 UTC


def test_a_role_can_be_recorded_as_held_since_a_past_time(client, declare, viewers):
    incident = declare(now=T0)
    client.force_login(viewers.manager)

    response = client.post(
        url("role", incident.pk),
        {"role": "sme", "user": viewers.responder.pk, "at": "2025-03-14T10:10"},
    )

    assert response.status_code == 302
    assert incident.roles.get(role="sme").assigned_at == at(10)  # 09:10 UTC


def test_a_chronology_error_names_both_times_in_one_zone(client, declare, viewers):
    """Defect 15's mixed message: a Paris viewer's correction came back as "detected time
    (… 11:00:00 CET) cannot be after declared time (… 09:00:00 UTC)"."""
    from .test_admin import change_form_data

    incident = declare(detected_at=at(-10), now=T0)
    client.force_login(viewers.manager)
    data = change_form_data(client, incident)
    data["detected_at_0"], data["detected_at_1"] = "2025-03-14", "11:00:00"  # 10:00 UTC

    response = client.post(url("change", incident.pk), data)

    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["detected_at"]
    quoted = re.findall(r"\((\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?) ([A-Z][A-Za-z0-9+-]*)\)", message)
    assert len(quoted) == 2, message
    (_, zone), (_, other_zone) = quoted
    assert zone == other_zone, message
