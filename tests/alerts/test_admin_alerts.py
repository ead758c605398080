"""The alerts in the admin: a read-only list with its filters and search at a fixed number of
queries (10 alerts cost what 200 do), the raw payload pretty-printed and escaped, the
incident page's alerts newest first a page at a time, and who may see them."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from incidents.alerts.models import Alert
from incidents.alerts.services import ingest, parse
from incidents.models import Incident

from .conftest import T0, alertmanager_payload, am_alert

LIST = reverse("admin:incidents_alert_changelist")


def storm(integration, n: int, *, start: int = 0, now=T0, **labels):
    """``n`` distinct firing alerts in one Alertmanager delivery (they group into one
    incident of their service)."""
    body = alertmanager_payload(*(am_alert(i, **labels) for i in range(start, start + n)))
    return ingest(integration=integration, alerts=parse("alertmanager", body), now=now)


def alert_url(alert):
    return reverse("admin:incidents_alert_change", args=[alert.pk])


def incident_url(incident, **query):
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


@pytest.fixture
def manager(client, cast):
    client.force_login(cast.manager)
    return client


def test_the_list_costs_the_same_for_10_and_200_alerts(
    manager, alertmanager, django_assert_max_num_queries
):
    storm(alertmanager.integration, 10)
    manager.get(LIST)
    with django_assert_max_num_queries(30) as ten:
        response = manager.get(LIST)
    assert response.context["cl"].result_count == 10

    storm(alertmanager.integration, 190, start=10, now=T0 + timedelta(minutes=1))
    with django_assert_max_num_queries(len(ten)):
        response = manager.get(LIST)
    assert response.context["cl"].result_count == 200
    # Newest first, with the columns filled from the joined rows.
    html = response.content.decode()
    assert "Latency high on pay-199" in html
    incident = Incident.objects.get()
    assert f">{incident.reference}</a>" in html
    # A filtered page costs one more (the chosen incident's reference), however many.
    with django_assert_max_num_queries(len(ten) + 1):
        manager.get(f"{LIST}?incident={incident.pk}&status__exact=firing")


def test_filters_and_search(manager, alertmanager, events, catalog):
    storm(alertmanager.integration, 3)
    storm(alertmanager.integration, 2, start=10, service="search")
    resolved = am_alert(0, status="resolved")
    ingest(
        integration=alertmanager.integration,
        alerts=parse("alertmanager", alertmanager_payload(resolved, status="resolved")),
        now=T0 + timedelta(minutes=3),
    )
    ingest(
        integration=events.integration,
        alerts=parse("events", _event(events.token)),
        now=T0 + timedelta(minutes=4),
    )
    payments = Incident.objects.filter(affected__service=catalog.payments).distinct().get()

    def listed(query: str) -> set[str]:
        response = manager.get(f"{LIST}?{query}")
        assert response.status_code == 200, query
        return {a.dedup_key for a in response.context["cl"].result_list}

    assert len(listed("")) == 6
    assert listed(f"integration__id__exact={events.integration.pk}") == {"samplekeyhere"}
    assert listed("status__exact=resolved") == {"fp-payments-000000"}
    assert listed(f"service__id__exact={catalog.search.pk}") == {
        "fp-search-000010",
        "fp-search-000011",
    }
    # The event joined the payments incident (same service, within the group window).
    assert len(listed(f"incident={payments.pk}")) == 4
    assert listed("incident=none") == set()
    assert len(listed("incident=any")) == 6
    assert (
        len(
            listed(
                "received_at__gte=2025-03-14T00:00:00%2B00:00&received_at__lt=2025-03-15T00:00:00%2B00:00"
            )
        )
        == 6
    )
    assert listed("received_at__gte=2025-03-15T00:00:00%2B00:00") == set()
    assert listed("q=pay-11") == {"fp-search-000011"}
    assert listed("q=samplekeyhere") == {"samplekeyhere"}
    # The incident filter names the chosen incident and lists no others.
    page = manager.get(f"{LIST}?incident={payments.pk}").content.decode()
    assert payments.reference in page


def _event(token):
    return {
        "routing_key": token,
        "event_action": "trigger",
        "dedup_key": "samplekeyhere",
        "payload": {"summary": "DISK at 99%", "source": "db-1", "severity": "critical"},
    }


def test_the_raw_payload_is_pretty_printed_and_escaped(manager, alertmanager):
    hostile = am_alert(1)
    hostile["annotations"] = {"summary": "<script>alert('x')</script>", "extra": {"deep": [1, 2]}}
    hostile["unknownField"] = "kept"
    ingest(
        integration=alertmanager.integration,
        alerts=parse("alertmanager", alertmanager_payload(hostile)),
        now=T0,
    )
    alert = Alert.objects.get()

    response = manager.get(alert_url(alert))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "unknownField" in html
    # Indented JSON, as json.dumps(indent=2) writes it (escaped for HTML).
    expected = json.dumps(alert.annotations, indent=2, ensure_ascii=False)
    assert (
        expected.replace('"', "&quot;")
        .replace("'", "&#x27;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        in html
    )


def test_alerts_are_read_only_for_everyone(manager, alertmanager):
    storm(alertmanager.integration, 1)
    alert = Alert.objects.get()

    assert manager.get(reverse("admin:incidents_alert_add")).status_code == 403
    assert manager.post(alert_url(alert), {"summary": "edited"}).status_code == 403
    delete = reverse("admin:incidents_alert_delete", args=[alert.pk])
    assert manager.post(delete, {"post": "yes"}).status_code == 403
    assert Alert.objects.get().summary == "Latency high on pay-0"
    assert 'name="_save"' not in manager.get(alert_url(alert)).content.decode()


def test_who_sees_alerts(client, cast, alertmanager):
    storm(alertmanager.integration, 1)
    alert = Alert.objects.get()
    for person in (cast.manager, cast.responder, cast.support, cast.leader):
        client.force_login(person)
        assert client.get(LIST).status_code == 200, person
        assert client.get(alert_url(alert)).status_code == 200, person
    client.force_login(cast.outsider)
    assert client.get(LIST).status_code == 302  # not staff: to the login page


def test_the_incident_page_lists_its_alerts_newest_first_a_page_at_a_time(
    manager, alertmanager, django_assert_max_num_queries
):
    storm(alertmanager.integration, 10)
    incident = Incident.objects.get()
    manager.get(incident_url(incident))
    with django_assert_max_num_queries(80) as ten:
        response = manager.get(incident_url(incident))
    alerts = response.context["inline_admin_formsets"][-2]
    assert alerts.formset.model is Alert
    assert [a.dedup_key for a in alerts.formset.get_queryset()][:1] == ["fp-payments-000009"]
    assert 'aria-label="Alert pages"' not in response.content.decode()

    storm(alertmanager.integration, 190, start=10, now=T0 + timedelta(minutes=1))
    with django_assert_max_num_queries(len(ten)):
        response = manager.get(incident_url(incident))
    html = response.content.decode()
    assert "The newest 50 alerts of 200." in html
    assert 'href="?alerts_page=2#alerts-group"' in html
    assert f'href="{LIST}?incident={incident.pk}"' in html

    with django_assert_max_num_queries(len(ten)):
        last = manager.get(incident_url(incident, alerts_page=4))
    shown = [a.dedup_key for a in last.context["inline_admin_formsets"][-2].formset.get_queryset()]
    assert shown[0] == "fp-payments-000049" and shown[-1] == "fp-payments-000000"


def test_an_incident_without_alerts_shows_no_alert_table_and_still_saves(
    manager, alertmanager, catalog, severities, cast
):
    from incidents import services

    incident = services.incident_declare(
        title="Declared by hand",
        severity=severities.sev2,
        services=[catalog.payments],
        user=cast.manager,
        now=T0,
    )
    response = manager.get(incident_url(incident))
    html = response.content.decode()
    assert "alerts (newest first)" not in html
    assert 'name="alerts-TOTAL_FORMS"' in html  # the save still finds its management form

    from tests.incidents.test_admin import FormReader

    reader = FormReader("incident_form")
    reader.feed(html)
    data = dict(reader.data)
    data["title"] = "Declared by hand (renamed)"
    data["_continue"] = "Save and continue editing"
    saved = manager.post(incident_url(incident), data)
    assert saved.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Declared by hand (renamed)"
