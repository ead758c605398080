"""Subscribers in the admin: managers see and remove (in history), support and leadership
see, responders and outsiders see nothing; nobody adds or edits one."""

import pytest
from django.urls import reverse

from comms.models import Subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber():
    return Subscriber.objects.create(kind="email", target="ana@example.com")


def _login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "who, list_code", [("manager", 200), ("support", 200), ("leader", 200), ("responder", 403)]
)
def test_who_sees_the_list(client, cast, subscriber, who, list_code):
    _login(client, getattr(cast, who))
    url = reverse("admin:comms_subscriber_changelist")
    response = client.get(url)
    assert response.status_code == list_code
    if list_code == 200:
        assert "ana@example.com" in response.content.decode()
        assert (
            client.get(reverse("admin:comms_subscriber_change", args=[subscriber.pk])).status_code
            == 200
        )
    assert client.get(reverse("admin:comms_subscriber_add")).status_code == 403


def test_outsider_is_sent_to_login(client, cast, subscriber):
    _login(client, cast.outsider)
    response = client.get(reverse("admin:comms_subscriber_changelist"))
    assert response.status_code == 302


def test_manager_removes_with_history(client, cast, subscriber):
    _login(client, cast.manager)
    response = client.post(
        reverse("admin:comms_subscriber_changelist"),
        {"action": "remove_selected", "_selected_action": [subscriber.pk]},
    )
    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    removal = Subscriber.history.filter(history_type="-").get()
    assert removal.history_user == cast.manager


def test_support_cannot_remove(client, cast, subscriber):
    _login(client, cast.support)
    client.post(
        reverse("admin:comms_subscriber_changelist"),
        {"action": "remove_selected", "_selected_action": [subscriber.pk]},
    )
    assert Subscriber.objects.exists()
    delete = reverse("admin:comms_subscriber_delete", args=[subscriber.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Subscriber.objects.exists()


def test_manager_delete_page_goes_through_the_service(client, cast, subscriber):
    _login(client, cast.manager)
    delete = reverse("admin:comms_subscriber_delete", args=[subscriber.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert Subscriber.history.filter(history_type="-").get().history_user == cast.manager
