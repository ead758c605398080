"""A page opened before someone else acted must not, when saved for an unrelated edit, put
the old values back: "changed" means changed from what this person saw."""

from incidents import services

from .test_admin import change_form_data, url


def test_stale_page_keeps_an_acknowledgement_made_meanwhile(declare, people, client):
    incident = declare()
    client.force_login(people.manager)
    data = change_form_data(client, incident)  # not acknowledged yet when the page opened
    services.incident_acknowledge(incident=incident, user=people.responder)

    data["title"] = "Card payments failing in the EU"
    assert client.post(url("change", incident.pk), data).status_code == 302

    incident.refresh_from_db()
    assert incident.title == "Card payments failing in the EU"
    assert incident.acknowledged_at is not None


def test_stale_page_keeps_mitigation_and_impact_recorded_meanwhile(declare, people, client):
    incident = declare()
    client.force_login(people.manager)
    data = change_form_data(client, incident)
    services.incident_set_status(incident=incident, status="monitoring", user=people.responder)
    services.incident_update(
        incident=incident, user=people.responder, data={"customers_affected": 5000}
    )

    data["summary"] = "EU cards only"
    assert client.post(url("change", incident.pk), data).status_code == 302

    incident.refresh_from_db()
    assert incident.summary == "EU cards only"
    assert incident.mitigated_at is not None
    assert incident.customers_affected == 5000


def test_stale_page_saves_when_newer_entries_pushed_older_ones_off_the_timeline(
    declare, people, client
):
    """The page shows the newest timeline entries only; entries written meanwhile push the
    oldest shown off the page, and the save still goes through."""
    incident = declare()
    for n in range(55):
        services.note_add(incident=incident, kind="note", text=f"n{n}", user=people.manager)
    client.force_login(people.manager)
    data = change_form_data(client, incident)
    for n in range(3):
        services.note_add(incident=incident, kind="note", text=f"late {n}", user=people.responder)

    data["title"] = "Card payments failing in the EU"
    response = client.post(url("change", incident.pk), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    incident.refresh_from_db()
    assert incident.title == "Card payments failing in the EU"
