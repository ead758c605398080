"""The generic JSON webhook: a minimal documented shape (title, dedup_key, severity, status,
labels, links), one object or a list."""

from incidents.alerts.models import Alert
from incidents.models import Incident

from .conftest import GENERIC

URL = "/api/v1/alerts/generic/"


def test_generic_alert_declares_and_routes(post, generic, catalog, severities):
    response = post(URL, GENERIC, generic.token)

    assert response.status_code == 202
    assert response.json() == {"status": "success", "dedup_keys": ["settlement-2025-03-14"]}
    incident = Incident.objects.get()
    assert incident.title == "Settlement batch failed"
    assert incident.services.get() == catalog.payments
    assert incident.severity == severities.sev3  # "error": no rule, the default severity
    assert Alert.objects.get().links == GENERIC["links"]


def test_generic_list_resolve_and_repeat(post, generic):
    post(URL, [GENERIC, {**GENERIC, "dedup_key": "other", "title": "Other"}], generic.token)
    again = post(URL, [GENERIC], generic.token)
    post(URL, {**GENERIC, "status": "resolved"}, generic.token)

    assert again.status_code == 202
    assert Alert.objects.count() == 2
    assert Alert.objects.get(dedup_key="settlement-2025-03-14").status == "resolved"
    assert Alert.objects.get(dedup_key="settlement-2025-03-14").repeat_count == 1
    assert Incident.objects.count() == 1


def test_generic_without_dedup_key_derives_one_from_title_and_labels(post, generic):
    body = {"title": "Disk full", "labels": {"service": "search", "host": "s1"}}
    first = post(URL, body, generic.token).json()
    second = post(URL, body, generic.token).json()

    assert first == second
    assert Alert.objects.get().repeat_count == 1


def test_fired_and_resolved_in_one_delivery_is_recorded_resolved_and_declares_nothing(
    post, generic
):
    response = post(URL, [GENERIC, {**GENERIC, "status": "resolved"}], generic.token)

    assert response.status_code == 202
    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.incident is None
    assert not Incident.objects.exists()
