"""The escalation admin against real views: a policy with steps inline saves, a step whose
target lacks its field is a form error naming it (nothing saved); the page list filters by
status, incident and recipient at a fixed number of queries; its acknowledge action goes
through escalation_acknowledge and the verb table."""

import pytest
from django.urls import reverse

from ircore import roles
from oncall.models import EscalationPolicy, EscalationStep, Page

from .test_escalation_fixtures import *  # noqa: F403  (the fixtures)
from .test_escalation_fixtures import run

T = EscalationStep.Target
ADD = reverse("admin:oncall_escalationpolicy_add")
PAGES = reverse("admin:oncall_page_changelist")


def policy_post(**steps):
    data = {
        "name": "Payments",
        "description": "",
        "repeat_last": "0",
        "repeat_times": "0",
        "repeat_after": "10m",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for n, (_key, fields) in enumerate(sorted(steps.items())):
        data.update({f"steps-{n}-{name}": value for name, value in fields.items()})
    return data


def test_a_manager_writes_a_policy_with_steps_inline(client, org):
    client.force_login(org.boss)
    data = policy_post(
        a={
            "position": "1",
            "delay": "0m",
            "unless": "acknowledged",
            "target": "layer",
            "layer": str(org.layer.pk),
        },
        b={"position": "2", "delay": "5m", "unless": "acknowledged", "target": "team_manager"},
    )
    response = client.post(ADD, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    policy = EscalationPolicy.objects.get(name="Payments")
    assert [(s.position, s.delay.total_seconds(), s.target) for s in policy.steps.all()] == [
        (1, 0, "layer"),
        (2, 300, "team_manager"),
    ]
    assert policy.history.first().history_user == org.boss


@pytest.mark.parametrize(
    "target,field",
    [("layer", "layer"), ("user", "user"), ("role", "role"), ("endpoint", "endpoint")],
)
def test_a_step_missing_its_targets_field_is_a_form_error(client, org, target, field):
    client.force_login(org.boss)
    data = policy_post(
        a={"position": "1", "delay": "0m", "unless": "acknowledged", "target": target}
    )
    response = client.post(ADD, data)
    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.formset.forms[0].errors[field] == [
        f"Required when the target is “{EscalationStep.Target(target).label}”."
    ]
    assert not EscalationPolicy.objects.exists()


def test_a_bad_delay_names_the_field(client, org):
    client.force_login(org.boss)
    data = policy_post(
        a={"position": "1", "delay": "soon", "target": "team_lead", "unless": "acknowledged"}
    )
    response = client.post(ADD, data)
    (inline,) = response.context["inline_admin_formsets"]
    assert "delay" in inline.formset.forms[0].errors
    assert not EscalationPolicy.objects.exists()


def test_a_second_default_policy_is_a_form_error(client, org):
    EscalationPolicy.objects.create(name="Existing", is_default=True)
    client.force_login(org.boss)
    response = client.post(ADD, {**policy_post(), "is_default": "on"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert EscalationPolicy.objects.count() == 1


@pytest.fixture
def paged_story(make_policy, org, declare):
    make_policy(
        "Story",
        [
            (0, T.LAYER, {"layer": org.layer}),
            (5, T.TEAM_MANAGER, {}),
            (5, T.USER, {"user": org.vp}),
        ],
    )
    first, second = declare(), declare()
    run(6)
    return first, second


def test_the_page_list_filters_at_a_fixed_number_of_queries(
    client, org, paged_story, make_user, django_assert_max_num_queries, declare
):
    first, second = paged_story
    client.force_login(org.boss)
    with django_assert_max_num_queries(20) as few:
        response = client.get(PAGES)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 6
    for _ in range(5):
        declare()
    run(7)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PAGES)
    assert len(response.context["cl"].result_list) == 21
    response = client.get(PAGES, {"incident": first.pk, "status": "sent"})
    assert {p.incident_id for p in response.context["cl"].result_list} == {first.pk}
    response = client.get(PAGES, {"recipient": org.vp.pk})
    assert {p.recipient_id for p in response.context["cl"].result_list} == {org.vp.pk}


def test_the_acknowledge_action_stops_the_escalation(client, org, paged_story):
    first, _ = paged_story
    client.force_login(org.alice)  # a responder
    page = Page.objects.get(incident=first, recipient=org.alice)
    response = client.post(
        PAGES, {"action": "acknowledge", "_selected_action": [page.pk]}, follow=True
    )
    assert response.status_code == 200
    page.refresh_from_db()
    first.refresh_from_db()
    assert (page.status, page.acknowledged_via, page.acknowledged_by) == (
        "acknowledged",
        "admin",
        org.alice,
    )
    assert first.acknowledged_at is not None
    assert set(Page.objects.filter(incident=first).values_list("status", flat=True)) == {
        "acknowledged",
        "stopped",
    }


def test_support_reads_policies_but_may_not_see_or_acknowledge_pages(
    client, make_user, paged_story
):
    support = make_user("sue", roles.SUPPORT)
    client.force_login(support)
    assert client.get(reverse("admin:oncall_escalationpolicy_changelist")).status_code == 200
    assert client.get(PAGES).status_code == 403


def test_leadership_reads_pages_without_the_acknowledge_action(client, make_user, paged_story):
    leader = make_user("leo", roles.LEADERSHIP)
    client.force_login(leader)
    response = client.get(PAGES)
    assert response.status_code == 200
    assert response.context["action_form"] is None  # no action it may use
    page = Page.objects.first()
    client.post(PAGES, {"action": "acknowledge", "_selected_action": [page.pk]})
    page.refresh_from_db()
    assert page.status == "sent"


def test_escalations_in_flight_are_listed_read_only(client, org, paged_story):
    first, _ = paged_story
    client.force_login(org.alice)
    response = client.get(reverse("admin:oncall_escalation_changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 2
    escalation = first.escalation
    change = client.get(reverse("admin:oncall_escalation_change", args=[escalation.pk]))
    assert change.status_code == 200
    assert (
        client.post(reverse("admin:oncall_escalation_change", args=[escalation.pk]), {}).status_code
        == 403
    )
