"""``comms.rendering``: the context a template sees of a real incident (plain values only,
exactly the documented placeholders), and what ``render`` makes of a template."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from comms.models import Audience, Notice
from comms.rendering import (
    EXAMPLE,
    INTERNAL,
    MAX_SUBJECT,
    PLACEHOLDERS,
    RenderError,
    context_for,
    render,
)
from comms.rendering.context import spoken
from comms.rendering.placeholders import flatten
from tests.comms.templates_world import at, build, resolve


@pytest.fixture
def world(cast):
    return build(cast)


def plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool | Decimal)


def test_the_documented_placeholders_are_exactly_what_the_context_holds(world):
    context = context_for(world.incident, now=at(30))

    assert flatten(context) == list(PLACEHOLDERS)
    assert flatten(EXAMPLE) == list(PLACEHOLDERS)
    assert set(PLACEHOLDERS) >= INTERNAL
    # Nothing a template could reach a model, a queryset or a method through.
    assert plain(context)


def test_context_of_a_real_incident(world, settings):
    settings.SITE_URL = "https://ir.example.com"
    context = context_for(world.incident, now=at(30))

    assert context["reference"] == world.incident.reference
    assert context["severity"] == {
        "key": "SEV-2",
        "name": "High",
        "internal_update_every": "15 minutes",
        "customer_update_every": "30 minutes",
    }
    assert context["status"] == "Investigating"
    assert context["services"] == [
        {"name": "MARK-Internal Ledger", "status": "Degraded performance", "icon": "🟡"},
        {"name": "Payments API", "status": "Major outage", "icon": "🔴"},
    ]
    # The status page's view: public services only, by their public names.
    assert context["public_services"] == [
        {"name": "Payments", "status": "Major outage", "icon": "🔴"}
    ]
    assert context["public_service_names"] == "Payments"
    assert (context["ic"], context["ic_handle"]) == ("Rob MARK-Ross", "@rob-mark")
    assert context["comms_lead"] == "sue" and context["tech_lead"] is None
    assert context["smes"] == []
    assert (context["customers_affected"], context["financial_impact"]) == (
        4321,
        Decimal("98765.43"),
    )
    # Times in UTC, written one way.
    assert context["detected_at"] == "2025-03-14 10:15 UTC"
    assert context["declared_at"] == "2025-03-14 10:18 UTC"
    assert context["impact_started_at"] == "2025-03-14 10:10 UTC"
    assert context["resolved_at"] is None
    assert context["now"] == "2025-03-14 10:45 UTC"
    assert context["duration"] == "30 minutes"  # detection to now, while open
    # SEV-2 updates every 15 minutes (internal) and 30 (customers), from the declaration.
    assert context["next_update_at"] == "2025-03-14 10:33 UTC"
    assert context["next_customer_update_at"] == "2025-03-14 10:48 UTC"
    assert context["status_page_url"] == "https://ir.example.com/status/"
    assert context["incident_url"] == (
        f"https://ir.example.com/admin/incidents/incident/{world.incident.pk}/change/"
    )


def test_next_update_counts_from_the_last_published_update_and_stops_at_resolution(world):
    Notice.objects.create(
        incident=world.incident,
        audience=Audience.INTERNAL,
        subject="Update",
        body="x",
        status=Notice.Status.PUBLISHED,
        published_at=at(20),
    )
    assert context_for(world.incident, now=at(25))["next_update_at"] == "2025-03-14 10:50 UTC"

    resolve(world, 55)
    context = context_for(world.incident, now=at(70))
    assert context["next_update_at"] is None and context["next_customer_update_at"] is None
    assert context["resolved_at"] == "2025-03-14 11:10 UTC"
    assert context["duration"] == "55 minutes"  # detection to resolution, the seed's figure


def test_the_context_costs_a_fixed_number_of_queries(world, django_assert_num_queries):
    for n in range(5):
        world.incident.services.add(
            world.payments.__class__.objects.create(name=f"Extra {n}", slug=f"extra-{n}")
        )
    # The incident (with severity and type), its services, its role holders with their
    # profiles, the last published notice per audience.
    with django_assert_num_queries(4):
        context_for(world.incident, now=at(30))


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=55, seconds=59), "55 minutes"),
        (timedelta(hours=2, minutes=5), "2 hours 5 minutes"),
        (timedelta(days=1, hours=1), "1 day 1 hour"),
    ],
)
def test_durations_read_as_words(span, words):
    assert spoken(span) == words


def test_render_fills_placeholders_and_loops(world):
    body = (
        "{{ severity.key }} {{ title }} ({{ status }})\n"
        "{% for s in services %}\n- {{ s.icon }} {{ s.name }} ({{ s.status|upper }})\n{% endfor %}"
        "Customers: {{ customers_affected|number }}; cost {{ financial_impact|number }}\n"
        "Resolved: {{ resolved_at or 'not yet' }}"
    )
    rendered = render("[{{ reference }}] {{ title }}", body, world.incident, now=at(30))

    assert rendered.subject == f"[{world.incident.reference}] Payment processing delays"
    assert rendered.body == (
        "SEV-2 Payment processing delays (Investigating)\n"
        "- 🟡 MARK-Internal Ledger (DEGRADED PERFORMANCE)\n"
        "- 🔴 Payments API (MAJOR OUTAGE)\n"
        "Customers: 4,321; cost 98,765.43\n"
        "Resolved: not yet"
    )


def test_a_subject_is_one_line_and_cut_to_its_length(world):
    rendered = render("{{ title }}\n\r\t{{ reference }}\u2028x", "", world.incident)
    assert rendered.subject == f"Payment processing delays {world.incident.reference} x"

    long = render("{{ title * 20 }}", "", world.incident).subject
    assert len(long) == MAX_SUBJECT and long.endswith("…")


def test_now_defaults_to_the_clock(world):
    with time_machine.travel(at(42), tick=False):
        assert render("{{ now }}", "{{ duration }}", world.incident).subject == (
            "2025-03-14 10:57 UTC"
        )


def test_a_failing_expression_is_a_render_error_naming_the_field(world):
    with pytest.raises(RenderError) as caught:
        render("ok", "{{ customers_affected / 0 }}", world.incident)
    assert caught.value.field == "body"
    assert "ZeroDivisionError" in caught.value.message
    with pytest.raises(RenderError) as caught:
        render("{{ tech_lead + 1 }}", "", world.incident)  # nobody holds it: None + 1
    assert caught.value.field == "subject"
