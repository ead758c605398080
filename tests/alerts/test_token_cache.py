"""The token lookup and routing are kept per process for ``CACHE_SECONDS``, and revocation
has no window for anything written: a delivery re-reads the integration under its lock, so
an integration disabled or rotated by another process (a queryset update here: it sends no
signal, as a change made elsewhere reaches this process none) is refused at once, writing
nothing. Settings changed elsewhere reach this process within ``CACHE_SECONDS``; a change
made in this process empties the caches at once."""

import pytest

from incidents.alerts.models import Alert, Integration, RoutingRule
from incidents.alerts.services import cache, integration_for_token, token_hash
from incidents.models import Incident

from .conftest import alertmanager_payload, am_alert

AM = "/api/v1/alerts/alertmanager/"


@pytest.fixture
def clock(monkeypatch):
    """The caches' clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(cache, "clock", lambda: now[0])
    return now


def _elsewhere(integration, **fields):
    """A change another process makes: nothing in this one hears of it."""
    Integration.objects.filter(pk=integration.pk).update(**fields)


def test_a_token_lookup_is_kept_for_the_window(alertmanager, clock, django_assert_num_queries):
    token = alertmanager.token
    assert integration_for_token(token) == alertmanager.integration
    with django_assert_num_queries(0):
        again = integration_for_token(token)
    assert again == alertmanager.integration
    assert again is not integration_for_token(token)  # each caller its own copy

    _elsewhere(alertmanager.integration, name="renamed elsewhere")
    clock[0] += cache.CACHE_SECONDS - 0.1
    assert integration_for_token(token).name == "alertmanager monitor"
    clock[0] += 0.2
    assert integration_for_token(token).name == "renamed elsewhere"


def test_unknown_tokens_are_not_kept(alertmanager, django_assert_num_queries):
    for n in range(3):
        assert integration_for_token(f"no-such-token-{n}") is None
    with django_assert_num_queries(1):
        assert integration_for_token("no-such-token-0") is None


def test_disabled_elsewhere_is_refused_at_once_writing_nothing(post, alertmanager, clock):
    token = alertmanager.token
    assert post(AM, alertmanager_payload(am_alert(1)), token).status_code == 200
    _elsewhere(alertmanager.integration, enabled=False)

    assert integration_for_token(token).enabled  # the cached copy has not heard of it
    response = post(AM, alertmanager_payload(am_alert(2)), token)

    assert response.status_code == 403
    assert "disabled" in response.json()["integration"][0]
    assert list(Alert.objects.values_list("fingerprint", flat=True)) == ["fp-payments-000001"]


def test_rotated_elsewhere_the_old_token_is_refused_at_once(post, alertmanager, clock):
    old = alertmanager.token
    assert post(AM, alertmanager_payload(am_alert(1)), old).status_code == 200
    _elsewhere(alertmanager.integration, token_hash=token_hash("the-new-token"))

    response = post(AM, alertmanager_payload(am_alert(2)), old)

    assert response.status_code == 401 and response.json() == {"token": ["Unknown token."]}
    assert Alert.objects.count() == 1
    assert post(AM, alertmanager_payload(am_alert(2)), "the-new-token").status_code == 200


def test_a_heartbeat_disabled_elsewhere_is_refused_at_once(client, alertmanager, clock):
    url = f"/api/v1/alerts/heartbeat/{alertmanager.token}/"
    assert client.get(url).status_code == 200
    pinged = Integration.objects.get(pk=alertmanager.integration.pk).last_ping_at
    _elsewhere(alertmanager.integration, enabled=False)

    assert client.get(url).status_code == 403
    assert Integration.objects.get(pk=alertmanager.integration.pk).last_ping_at == pinged


def test_a_change_in_this_process_applies_at_once(post, alertmanager, catalog, clock):
    token = alertmanager.token
    post(AM, alertmanager_payload(am_alert(1)), token)  # caches the token and the routing
    RoutingRule.objects.filter(integration=alertmanager.integration).delete()
    integration = Integration.objects.get(pk=alertmanager.integration.pk)
    integration.service = catalog.search
    integration.save()  # a save here (the admin, a service, an import) empties the caches

    post(AM, alertmanager_payload(am_alert(2, service="payments")), token)

    assert Alert.objects.get(fingerprint="fp-payments-000002").service == catalog.search
    assert Incident.objects.count() == 2


def test_a_routing_rule_changed_elsewhere_applies_within_the_window(
    post, alertmanager, catalog, clock
):
    token = alertmanager.token
    post(AM, alertmanager_payload(am_alert(1)), token)
    RoutingRule.objects.filter(integration=alertmanager.integration, value="payments").update(
        service=catalog.search
    )

    post(AM, alertmanager_payload(am_alert(2)), token)
    clock[0] += cache.CACHE_SECONDS
    post(AM, alertmanager_payload(am_alert(3)), token)

    services = dict(Alert.objects.values_list("fingerprint", "service__slug"))
    assert services["fp-payments-000002"] == "payments"  # within the window: the old rule
    assert services["fp-payments-000003"] == "search"
