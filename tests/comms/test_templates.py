"""Templates are checked when they are saved (the model's ``clean``, the service, hence the
admin and the policy import): an unknown placeholder or a syntax error is a validation error
naming it and listing the placeholders; saved changes are in the history. The shipped
customer templates show customers nothing internal."""

import pytest
from django.core.exceptions import ValidationError

from comms.models import Audience, Template
from comms.rendering import PLACEHOLDERS, render, validate
from comms.services.templates import template_delete, template_save
from tests.comms.templates_world import at, build, resolve

AVAILABLE = "Available placeholders: " + ", ".join(PLACEHOLDERS) + "."


def errors(subject: str, body: str) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        validate(subject, body)
    return caught.value.message_dict


def test_a_template_using_only_placeholders_validates():
    validate(
        "[{{ severity.key }}] {{ title }}",
        "{% for s in public_services %}\n- {{ s.name }}: {{ s.status }}\n{% endfor %}\n"
        "{% set n = customers_affected or 0 %}{{ n|number }} {{ smes|join(', ') }} "
        "{{ title if drill else 'real' }}",
    )


def test_an_unknown_placeholder_is_named_with_a_suggestion_and_the_list():
    found = errors("{{ titel }}", "Hello {{ reference }}\n{{ sevrity.key }}")

    assert found["subject"] == [
        'line 1: "titel" is not a placeholder; did you mean "title"?',
        AVAILABLE,
    ]
    assert found["body"] == [
        'line 2: "sevrity" is not a placeholder; did you mean "severity"?',
        AVAILABLE,
    ]
    assert "next_update_at" in AVAILABLE and "services[].status" in AVAILABLE


def test_parts_of_groups_and_of_list_items_are_checked():
    found = errors(
        "ok",
        "{{ severity.colour }}\n{% for s in services %}{{ s.owner }}{% endfor %}\n"
        "{% for s in services if s.staus %}{% endfor %}",
    )["body"]
    assert found[:3] == [
        "line 1: severity.colour is not a placeholder (severity has key, name, "
        "internal_update_every, customer_update_every)",
        "line 2: s.owner is not a placeholder (s has name, status, icon)",
        'line 3: s.staus is not a placeholder; did you mean "status"? (s has name, status, icon)',
    ]


def test_a_syntax_error_names_its_line():
    assert errors("ok", "Hello\n{% for s in services %}\n{{ s.name }")["body"][0] == (
        "line 3: unexpected '}'"
    )
    assert errors("ok", "{{ title|shout }}")["body"][0] == "line 1: No filter named 'shout'."


def test_the_models_clean_and_the_service_refuse_a_bad_template_and_write_nothing(cast):
    template = Template(
        name="Broken",
        kind=Template.Kind.DECLARED,
        audience=Audience.INTERNAL,
        subject="{{ sevrity.key }}",
        body="{% if %}",
    )
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    assert set(caught.value.message_dict) == {"subject", "body"}

    with pytest.raises(ValidationError):
        template_save(template=template, user=cast.manager)
    assert not Template.objects.exists()
    assert not Template.history.exists()


def test_the_service_saves_and_removes_with_the_history(cast):
    template = template_save(
        template=Template(
            name="Exec",
            kind=Template.Kind.EXECUTIVE_BRIEFING,
            audience=Audience.EXECUTIVES,
            subject="{{ severity.key }}: {{ title }}",
            body="Impact {{ financial_impact|number }}.",
        ),
        user=cast.manager,
        reason="briefings for SEV-1",
    )
    template.body = "IC: {{ ic }}."
    template_save(template=template, user=cast.manager)
    template_delete(template=template, user=cast.manager)

    rows = list(Template.history.order_by("history_id"))
    assert [(r.history_type, r.history_user, r.body) for r in rows] == [
        ("+", cast.manager, "Impact {{ financial_impact|number }}."),
        ("~", cast.manager, "IC: {{ ic }}."),
        ("-", cast.manager, "IC: {{ ic }}."),
    ]
    assert rows[0].history_change_reason == "briefings for SEV-1"


@pytest.mark.parametrize("resolved", [False, True], ids=["open", "resolved"])
def test_shipped_customer_templates_show_customers_nothing_internal(cast, resolved):
    """Every internal fact of the incident carries a MARK- string: its internal service, its
    summary, the IC's name and handle. The default customer templates name none of them, so
    none reaches their output (nor do the impact figures)."""
    world = build(cast)
    if resolved:
        resolve(world)
    customer_templates = Template.objects.filter(audience=Audience.CUSTOMERS)
    assert customer_templates.count() == 5

    for template in customer_templates:
        out = render(template.subject, template.body, world.incident, now=at(60))
        text = f"{out.subject}\n{out.body}"
        assert "MARK" not in text, template.name
        assert out.subject and out.body
        for figure in ("4,321", "4321", "27,500", "27500", "98,765", "98765"):
            assert figure not in text, (template.name, figure)
        assert "/admin/" not in text, template.name

    # The internal ones do show them: the same context, named.
    alert = Template.objects.get(name="Initial alert")
    out = render(alert.subject, alert.body, world.incident, now=at(60))
    assert "MARK-Internal Ledger" in out.body and "Rob MARK-Ross" in out.body


def test_drafting_offers_the_active_templates_of_an_audience(cast):
    build(cast)
    Template.objects.filter(name="Status page update").update(active=False)

    offered = Template.objects.offered(Audience.CUSTOMERS)

    assert [(t.kind, t.name) for t in offered] == [
        ("customer_outage", "Service outage notification"),
        ("customer_resolution", "Resolution notification"),
        ("customer_resolution", "Status page resolved"),
        ("post_incident_email", "Update e-mail to affected customers"),
    ]
    assert not Template.objects.offered(Audience.EXECUTIVES).exists()
