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
