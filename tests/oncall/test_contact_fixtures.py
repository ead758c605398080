"""Shared fixtures of the contact tests (no tests here; the other files import these):
a SEV-1 incident, pages made directly (the engine makes them in production and calls
``page_notify``), Alice's rules (e-mail at once, chat after 2 minutes, webhook after 5), and a
thread race helper for PostgreSQL."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from incidents import services as incidents
from ircore.models import Delivery, Service, Severity
from oncall.models import Page
from oncall.services.contact import contact_method_create, notification_rule_set
from tests.racing import race

__all__ = [
    "HOOK",
    "MIN",
    "T0",
    "alice_rules",
    "incident",
    "make_page",
    "race",
    "sent",
    "sev",
]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOOK = "https://sms.example.com/hook/secret-path"


@pytest.fixture
def sev(db):
    return Severity.objects.create(key="SEV-1", rank=1, name="Critical")


@pytest.fixture
def incident(sev, crew):
    api = Service.objects.create(name="Payments API", slug="payments-api")
    return incidents.incident_declare(
        title="Card payments failing", severity=sev, services=[api], user=crew.boss, now=T0
    )


@pytest.fixture
def make_page(incident):
    def make(recipient, *, step=1, repeat=0, unless="acknowledged", of=None, **extra):
        return Page.objects.create(
            incident=of or incident,
            step=step,
            repeat=repeat,
            unless=unless,
            recipient=recipient,
            due_at=extra.pop("due_at", T0),
            paged_at=extra.pop("paged_at", T0),
            target_label=extra.pop("target_label", "Primary on call"),
            **extra,
        )

    return make


@pytest.fixture
def alice_rules(crew, settings):
    """E-mail at once, chat after 2 minutes, webhook after 5."""
    settings.CHAT_WEBHOOK_URL = "https://chat.example.com/hook"
    alice = crew.alice
    email = contact_method_create(user=alice, kind="email", target="alice@pager.example", by=alice)
    chat = contact_method_create(user=alice, kind="chat", target="@alice", by=alice)
    hook = contact_method_create(user=alice, kind="webhook", target=HOOK, label="SMS", by=alice)
    notification_rule_set(
        user=alice, rules=[(email, 0 * MIN), (chat, 2 * MIN), (hook, 5 * MIN)], by=alice
    )
    return SimpleNamespace(email=email, chat=chat, hook=hook)


def sent(page) -> list[tuple[str, str]]:
    """(channel, target) of the page's deliveries, in the order written."""
    rows = Delivery.objects.filter(page_attempts__page=page).order_by("id")
    return [(row.channel, row.target) for row in rows]
