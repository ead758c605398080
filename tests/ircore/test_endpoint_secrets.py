"""Webhook and chat URLs are credentials: whoever holds one can post as the tool. Only people
who manage endpoints see them whole; other readers of the delivery log see the host."""

import pytest
from django.urls import reverse

from ircore import notifications
from ircore.models import Delivery, NotificationEndpoint

SECRET = "https://hooks.example.com/services/T000/B000/SECRET-TOKEN-42"


@pytest.fixture
def delivery(db):
    endpoint = NotificationEndpoint.objects.create(name="ops chat", kind="chat", target=SECRET)
    return notifications.notify_endpoint(endpoint=endpoint, subject="Test", body="x")


def test_leadership_and_responders_cannot_open_endpoints(cast, delivery, client):
    for person in (cast.leader, cast.responder, cast.support):
        client.force_login(person)
        url = reverse("admin:ircore_notificationendpoint_change", args=[delivery.endpoint_id])
        assert client.get(url).status_code == 403


def test_delivery_log_shows_only_the_host_to_readers(cast, delivery, client):
    client.force_login(cast.leader)
    listing = client.get(reverse("admin:ircore_delivery_changelist")).content.decode()
    detail = client.get(reverse("admin:ircore_delivery_change", args=[delivery.pk]))
    assert detail.status_code == 200
    for page in (listing, detail.content.decode()):
        assert "SECRET-TOKEN-42" not in page
        assert "https://hooks.example.com/…" in page
    # Nor can the secret part be probed through search.
    found = client.get(reverse("admin:ircore_delivery_changelist"), {"q": "SECRET-TOKEN"})
    assert found.context["cl"].result_count == 0
    assert Delivery.objects.filter(target__contains="SECRET-TOKEN").count() == 1


def test_managers_see_the_whole_url(cast, delivery, client):
    client.force_login(cast.manager)
    listing = client.get(reverse("admin:ircore_delivery_changelist")).content.decode()
    assert SECRET in listing
    found = client.get(reverse("admin:ircore_delivery_changelist"), {"q": "SECRET-TOKEN"})
    assert found.context["cl"].result_count == 1
