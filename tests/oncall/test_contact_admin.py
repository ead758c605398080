"""The contact admin: everyone on staff edits their own contact methods and rules ("My
contact methods"), through the services; a manager sees everyone's; page attempts are a
read-only log for those who may read it, at a fixed number of queries."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oncall.models import ContactMethod, NotificationRule, PageAttempt
from oncall.services.contact import contact_method_create, page_notify
from tests.ircore.test_admin_smoke import form_data

from .test_contact_fixtures import *  # noqa: F403  (the fixtures)
from .test_contact_fixtures import T0

ADD = reverse("admin:oncall_contactmethod_add")
LIST = reverse("admin:oncall_contactmethod_changelist")
ATTEMPTS = reverse("admin:oncall_pageattempt_changelist")


def change_url(method) -> str:
    return reverse("admin:oncall_contactmethod_change", args=[method.pk])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def methods(crew):
    return {
        "alice": contact_method_create(
            user=crew.alice, kind="chat", target="@alice", by=crew.alice
        ),
        "bob": contact_method_create(
            user=crew.bob, kind="email", target="bob@pager.example", by=crew.bob
        ),
    }


@pytest.fixture
def manager(crew):
    crew.boss.user_permissions.add(Permission.objects.get(codename="manage_contactmethod"))
    return crew.boss


def test_a_responder_sees_only_their_own_methods(crew, methods):
    client = client_for(crew.alice)
    page = client.get(LIST)
    assert page.status_code == 200
    assert page.context["title"] == "My contact methods"
    assert [m.pk for m in page.context["cl"].result_list] == [methods["alice"].pk]
    response = client.get(change_url(methods["bob"]))
    assert response.status_code in (302, 403, 404)
    assert "bob@pager.example" not in client.get(LIST).content.decode()


def test_a_person_adds_a_method_with_rules_through_the_admin(crew):
    client = client_for(crew.alice)
    data = form_data(client.get(ADD))
    data.update({"kind": "webhook", "target": "https://sms.example.com/k", "label": "SMS"})
    data.update({"rules-0-delay": "5m"})
    response = client.post(ADD, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    method = ContactMethod.objects.get()
    assert (method.user, method.kind, method.label) == (crew.alice, "webhook", "SMS")
    rule = NotificationRule.objects.get()
    assert (rule.user, rule.contact_method, rule.delay) == (
        crew.alice,
        method,
        timedelta(minutes=5),
    )
    assert method.history.get().history_user == crew.alice
    assert rule.history.get().history_user == crew.alice


def test_a_bad_target_is_a_form_error_naming_the_field_and_nothing_is_saved(crew):
    client = client_for(crew.alice)
    data = form_data(client.get(ADD))
    data.update({"kind": "webhook", "target": "http://sms.example.com/k", "rules-0-delay": "1m"})
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "https URL" in str(response.context["adminform"].form.errors["target"])
    assert not ContactMethod.objects.exists() and not NotificationRule.objects.exists()


def test_editing_the_rules_inline_keeps_the_other_methods_rules(crew, methods):
    alice = crew.alice
    email = contact_method_create(user=alice, kind="email", target="a@x.example", by=alice)
    NotificationRule.objects.create(user=alice, contact_method=email, delay=timedelta(0))
    client = client_for(alice)
    url = change_url(methods["alice"])
    data = form_data(client.get(url))
    data.update({"rules-0-delay": "2m"})
    assert client.post(url, data).status_code == 302
    rules = {(r.contact_method_id, r.delay) for r in NotificationRule.objects.all()}
    assert rules == {(methods["alice"].pk, timedelta(minutes=2)), (email.pk, timedelta(0))}


def test_deleting_a_method_in_the_admin_goes_through_the_service(crew, methods):
    client = client_for(crew.alice)
    url = reverse("admin:oncall_contactmethod_delete", args=[methods["alice"].pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not ContactMethod.objects.filter(user=crew.alice).exists()
    assert ContactMethod.history.filter(history_type="-").get().history_user == crew.alice


def test_a_manager_sees_and_edits_everyones_methods(manager, methods, crew):
    client = client_for(manager)
    page = client.get(LIST)
    assert page.context["title"] == "Contact methods"
    assert {m.pk for m in page.context["cl"].result_list} == {m.pk for m in methods.values()}
    assert client.get(change_url(methods["bob"])).status_code == 200


def test_support_and_leadership_have_their_own_page_too(cast):
    for person in (cast.support, cast.leader):
        assert client_for(person).get(LIST).status_code == 200


def test_the_attempts_log_is_read_only_and_closed_to_responders(
    crew, admin_client, alice_rules, make_page
):
    page_notify(page=make_page(crew.alice), now=T0)
    assert admin_client.get(ATTEMPTS).status_code == 200
    attempt = PageAttempt.objects.first()
    url = reverse("admin:oncall_pageattempt_change", args=[attempt.pk])
    html = admin_client.get(url).content.decode()
    assert 'name="_save"' not in html
    assert client_for(crew.alice).get(ATTEMPTS).status_code == 403


def test_the_attempts_log_is_a_fixed_number_of_queries(
    crew, admin_client, alice_rules, make_page, django_assert_max_num_queries
):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(ATTEMPTS).status_code == 200
        return len(queries)

    page_notify(page=make_page(crew.alice, step=1), now=T0)
    few = count_queries()
    for step in range(2, 12):
        page_notify(page=make_page(crew.alice, step=step), now=T0)
    assert PageAttempt.objects.count() == 33
    with django_assert_max_num_queries(few):
        assert admin_client.get(ATTEMPTS).status_code == 200


def test_the_my_methods_list_is_a_fixed_number_of_queries(crew, django_assert_max_num_queries):
    client = client_for(crew.alice)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    contact_method_create(user=crew.alice, kind="chat", target="@a1", by=crew.alice)
    few = count_queries()
    for n in range(2, 8):
        method = contact_method_create(user=crew.alice, kind="chat", target=f"@a{n}", by=crew.alice)
        NotificationRule.objects.create(user=crew.alice, contact_method=method, delay=timedelta(n))
    with django_assert_max_num_queries(few):
        assert client.get(LIST).status_code == 200


def test_a_page_shows_its_attempts_to_managers_and_not_the_targets_to_responders(
    crew, alice_rules, make_page
):
    page = make_page(crew.alice)
    page_notify(page=page, now=T0)
    url = reverse("admin:oncall_page_change", args=[page.pk])
    target = PageAttempt.objects.filter(page=page, kind="chat").get().target

    manager_view = client_for(crew.boss).get(url)
    responder_view = client_for(crew.bob).get(url)

    assert manager_view.status_code == responder_view.status_code == 200
    assert target in manager_view.content.decode()
    assert target not in responder_view.content.decode()
