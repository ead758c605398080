"""``manage.py create_integration``: prints the absolute endpoint URL and the token once (the
token opens the integration); a bad kind, unknown service or severity, or a duplicate name
exits non-zero naming it and writes nothing."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from incidents.alerts.models import Integration
from incidents.alerts.services import integration_for_token


def run(*args) -> str:
    out = io.StringIO()
    call_command("create_integration", *args, stdout=out)
    return out.getvalue()


def test_prints_the_endpoint_and_the_token_that_opens_it(db, settings, catalog, severities):
    settings.SITE_URL = "https://ir.example.com/ir"

    out = run(
        "Prometheus production",
        "--kind",
        "alertmanager",
        "--service",
        "payments",
        "--severity",
        "SEV-2",
    )

    token = re.search(r"^Token: (\S+)$", out, re.M).group(1)
    assert len(token) >= 32
    assert "Endpoint URL: https://ir.example.com/ir/api/v1/alerts/alertmanager/" in out
    assert f"credentials: {token}" in out  # the webhook_configs snippet, ready to paste
    integration = Integration.objects.get()
    assert integration_for_token(token) == integration
    assert (integration.kind, integration.service, integration.severity) == (
        "alertmanager",
        catalog.payments,
        severities.sev2,
    )
    assert token not in integration.token_hash


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("events", "https://ir.example.com/v2/enqueue"),
        ("generic", "https://ir.example.com/api/v1/alerts/generic/"),
    ],
)
def test_each_kind_gets_its_endpoint(db, settings, kind, url):
    settings.SITE_URL = "https://ir.example.com"

    out = run(f"{kind} monitor", "--kind", kind)

    assert f"Endpoint URL: {url}" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["X", "--kind", "nagios"],
            "--kind: 'nagios' is not a kind; use one of alertmanager, events, generic.",
        ),
        (
            ["X", "--kind", "events", "--service", "billing"],
            "--service: no service with slug 'billing' (known: payments, search).",
        ),
        (
            ["X", "--kind", "events", "--severity", "SEV-9"],
            "--severity: no severity 'SEV-9' (known: SEV-1, SEV-2, SEV-3).",
        ),
        (["", "--kind", "events"], "name: An integration needs a name."),
    ],
)
def test_bad_input_exits_naming_it_and_writes_nothing(db, catalog, severities, args, message):
    with pytest.raises(CommandError) as caught:
        run(*args)

    assert str(caught.value) == message
    assert not Integration.objects.exists()


def test_a_name_taken_is_refused(db):
    run("Prometheus", "--kind", "alertmanager")

    with pytest.raises(CommandError) as caught:
        run("Prometheus", "--kind", "events")

    assert str(caught.value) == "name: An integration named 'Prometheus' exists already."
    assert Integration.objects.count() == 1


def test_a_missing_kind_is_refused_by_the_parser(db):
    with pytest.raises(CommandError, match="--kind"):
        run("Prometheus")
    assert not Integration.objects.exists()
