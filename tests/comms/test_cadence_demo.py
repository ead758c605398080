"""The demo's open incident owes an internal update that is overdue: the first screen shows
it, and its Communications Lead has been reminded (what ``make run`` shows)."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from comms.models import UpdateDue
from incidents.models import Incident, TimelineEntry
from ircore.models import Delivery

pytestmark = pytest.mark.django_db


def test_bootstrap_leaves_the_open_demo_incident_with_an_overdue_reminded_update(
    settings, tmp_path, client
):
    settings.VAR_DIR = tmp_path
    call_command("bootstrap", stdout=StringIO())

    incident = Incident.objects.open().get()
    internal = UpdateDue.objects.get(incident=incident, audience="internal")
    assert (internal.outcome, internal.reminded_at is not None) == ("pending", True)
    assert internal.due_at == incident.declared_at + incident.severity.internal_update_every
    reminder = Delivery.objects.get(topic="comms.cadence")
    assert reminder.recipient.username == "sam"  # the demo's Communications Lead
    entry = TimelineEntry.objects.get(incident=incident, data__cadence="overdue")
    assert re.match(r"Internal update overdue by [45] min .*reminded Sam Carter", entry.text)

    client.force_login(reminder.recipient)
    html = client.get("/admin/").content.decode()
    assert re.search(r"Internal update overdue by [45]m, due", html)
