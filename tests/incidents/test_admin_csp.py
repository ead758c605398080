"""The incident pages hold no inline script, no event-handler attribute and no style=""
attribute, so a Content-Security-Policy without 'unsafe-inline' changes nothing on them: the
checklist's progress is a <progress> element and the severity colours come from a
stylesheet."""

import re

from django.urls import reverse

from incidents import services

from .test_admin import url

INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>"),  # a script without src
    re.compile(r"\sstyle=\""),
    re.compile(r"\son[a-z]+=\""),  # onclick= and the like
]


def test_no_inline_script_or_style_on_the_incident_pages(client, declare, people, security_type):
    incident = declare(incident_type=security_type)
    services.note_add(incident=incident, kind="note", text="**x**", user=people.manager)
    entry = incident.timeline.first()
    client.force_login(people.manager)
    pages = [
        url("changelist"),
        url("change", incident.pk),
        url("declare"),
        *(
            url(name, incident.pk)
            for name in ("acknowledge", "status", "severity", "role", "checklist", "note")
        ),
        url("security", incident.pk),
        reverse("admin:incidents_timelineentry_changelist"),
        reverse("admin:incidents_timelineentry_change", args=[entry.pk]),
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        for pattern in INLINE:
            assert not pattern.search(html), (path, pattern.search(html))

    essentials = client.get(url("change", incident.pk)).content.decode()
    done, total = 0, incident.checklist.count()
    assert f'<progress class="ir-progress" value="{done}" max="{total}"' in essentials


def test_list_action_forms_hold_no_inline_style(client, declare, people):
    incident = declare()
    client.force_login(people.manager)
    response = client.post(
        url("changelist"),
        {"action": "change_severity_selected", "_selected_action": [incident.pk], "index": 0},
    )
    assert response.status_code == 200
    assert not re.search(r"\sstyle=\"", response.content.decode())


def test_severity_colours_come_from_a_stylesheet_of_their_own(client, people, severities):
    severities.sev1.colour = "#d32f2f"
    severities.sev1.save()
    severities.sev2.colour = "red;}a{"  # not a plain hex colour (saved past the validator)
    severities.sev2.save()
    client.force_login(people.manager)

    response = client.get(reverse("admin:incidents_incident_severity_css"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    css = response.content.decode()
    assert f".ir-sev-{severities.sev1.pk} {{ background-color: #d32f2f; color: #ffffff; }}" in css
    assert f".ir-sev-{severities.sev2.pk} {{ background-color: #757575; color: #ffffff; }}" in css
    assert "red;" not in css and "}a{" not in css
