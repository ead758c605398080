"""Drafting from a template: its subject and body are rendered against the incident
(``comms.rendering.render``) for whatever the writer left empty, its audience is the
notice's, and a template that cannot be used is refused on the template field."""

import pytest

from comms.models import Notice, Template
from comms.services import notices
from incidents.models import TimelineEntry
from ircore.errors import RuleError

from .noticekit import *  # noqa: F403
from .noticekit import CUSTOMERS, INTERNAL, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def outage_template(db):
    return Template.objects.create(
        name="Customer outage notice",
        kind=Template.Kind.CUSTOMER_OUTAGE,
        audience=CUSTOMERS,
        subject="[{{ severity.key }}] {{ public_service_names }} disrupted",
        body="We are investigating problems with **{{ public_service_names }}**.\n\n"
        "Reference: {{ reference }}.",
    )


def test_a_draft_from_a_template_is_written_for_the_incident(world, outage_template):
    notice = notices.draft(
        incident=world.incident, user=world.support, template=outage_template, now=at(5)
    )

    assert notice.audience == CUSTOMERS
    assert notice.template == outage_template
    assert notice.subject == "[SEV-2] Payments disrupted"
    assert notice.body == (
        "We are investigating problems with **Payments**.\n\n"
        f"Reference: {world.incident.reference}."
    )
    # The internal Ledger DB is affected too, but a customer template's public names omit it.
    assert "Ledger" not in notice.body
    entry = TimelineEntry.objects.get(data__notice=notice.pk)
    assert entry.text.endswith("from the template “Customer outage notice”")


def test_what_the_writer_typed_is_kept(world, outage_template):
    notice = notices.draft(
        incident=world.incident,
        user=world.support,
        template=outage_template,
        subject="Payments: some cards declined",
    )
    assert notice.subject == "Payments: some cards declined"
    assert notice.body.startswith("We are investigating problems with **Payments**.")


def test_a_template_for_another_audience_is_refused(world, outage_template):
    with pytest.raises(RuleError) as refused:
        notices.draft(
            incident=world.incident,
            user=world.support,
            template=outage_template,
            audience=INTERNAL,
        )
    assert refused.value.field == "template"
    assert refused.value.message == (
        "“Customer outage notice” is written for customers; this notice is for internal."
    )


def test_a_template_no_longer_in_use_is_refused(world, outage_template):
    outage_template.active = False
    outage_template.save()
    with pytest.raises(RuleError) as refused:
        notices.draft(incident=world.incident, user=world.support, template=outage_template)
    assert refused.value.field == "template"


def test_a_template_that_does_not_render_is_refused_on_the_template(world):
    # Saved past the template form's validation (an import, an older version).
    broken = Template.objects.create(
        name="Broken",
        kind=Template.Kind.STATUS_UPDATE,
        audience=INTERNAL,
        subject="Update",
        body="{{ reference.__class__ }}",
    )
    with pytest.raises(RuleError) as refused:
        notices.draft(incident=world.incident, user=world.support, template=broken)
    assert refused.value.field == "template"
    assert refused.value.message.startswith("The template “Broken” does not render:")
    assert not Notice.objects.exists()


def test_the_admin_draft_form_renders_the_chosen_template(client, world, outage_template):
    client.force_login(world.support)
    response = client.post(
        "/admin/comms/notice/add/",
        {"incident": world.incident.pk, "template": outage_template.pk, "subject": "", "body": ""},
    )
    notice = Notice.objects.get()
    assert response["Location"] == f"/admin/comms/notice/{notice.pk}/change/"
    assert notice.subject == "[SEV-2] Payments disrupted"
    html = client.get(response["Location"]).content.decode()
    assert "We are investigating problems with <strong>Payments</strong>." in html


def test_the_admin_draft_form_names_a_template_of_the_wrong_audience(
    client, world, outage_template
):
    client.force_login(world.support)
    response = client.post(
        "/admin/comms/notice/add/",
        {"incident": world.incident.pk, "template": outage_template.pk, "audience": "executives"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["template"]
    assert not Notice.objects.exists()
