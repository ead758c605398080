"""Integrations: a token of 43 URL-safe characters shown once (only its sha256 and last four
characters are kept), rotation that shuts the old token out at once, refusals naming the
field, history naming who."""

import hashlib
import re

import pytest

from incidents.alerts.models import Integration
from incidents.alerts.services import integration_create, integration_rotate_token
from ircore.errors import RuleError

from .conftest import alertmanager_payload

URL = "/api/v1/alerts/alertmanager/"


def test_the_token_is_shown_once_and_only_its_hash_is_kept(make_user, catalog, severities):
    ada = make_user("ada")
    integration, token = integration_create(
        name="Prometheus prod",
        kind="alertmanager",
        service=catalog.payments,
        severity=severities.sev2,
        user=ada,
    )

    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    stored = Integration.objects.get()
    assert stored.slug == "prometheus-prod" and stored.service == catalog.payments
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.token_hint == token[-4:]
    assert token not in str(Integration.objects.values().get())
    assert stored.history.get().history_user == ada


def test_rotation_shuts_the_old_token_out(post, alertmanager, make_user):
    old = alertmanager.token
    new = integration_rotate_token(integration=alertmanager.integration, user=make_user("rot"))

    assert new != old
    assert post(URL, alertmanager_payload(), old).status_code == 401
    assert post(URL, alertmanager_payload(), new).status_code == 200
    integration = Integration.objects.get()
    assert integration.token_hint == new[-4:]
    assert integration.history.first().history_change_reason == "token rotated"


@pytest.mark.parametrize(
    "name, kind, field",
    [("", "alertmanager", "name"), ("x", "nagios", "kind"), ("!!!", "events", "name")],
)
def test_bad_integrations_are_refused_naming_the_field(make_user, name, kind, field):
    with pytest.raises(RuleError) as error:
        integration_create(name=name, kind=kind, user=make_user("u"))
    assert error.value.field == field
    assert not Integration.objects.exists()


def test_a_taken_name_is_refused(make_user):
    integration_create(name="Grafana", kind="generic", user=None)
    with pytest.raises(RuleError) as error:
        integration_create(name="Grafana", kind="events", user=make_user("u"))
    assert error.value.field == "name"
    assert Integration.objects.count() == 1
