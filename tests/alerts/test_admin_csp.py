"""The detection admin's pages hold no inline script, event-handler attribute or style=""
attribute, so a Content-Security-Policy without 'unsafe-inline' changes nothing on them."""

import json
import re

from django.urls import reverse

from incidents.alerts.models import Alert
from incidents.models import Incident

from .conftest import alertmanager_payload

INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>"),
    re.compile(r"\sstyle=\""),
    re.compile(r"\son[a-z]+=\""),
]


def clean(html: str) -> bool:
    return not any(pattern.search(html) for pattern in INLINE)


def test_no_inline_script_or_style_on_the_detection_pages(client, cast, alertmanager, post):
    post("/api/v1/alerts/alertmanager/", alertmanager_payload(), alertmanager.token)
    integration, alert, incident = (
        alertmanager.integration,
        Alert.objects.get(),
        Incident.objects.get(),
    )
    client.force_login(cast.manager)
    pages = [
        reverse("admin:incidents_integration_changelist"),
        reverse("admin:incidents_integration_add"),
        reverse("admin:incidents_integration_change", args=[integration.pk]),
        reverse("admin:incidents_integration_rotate_token", args=[integration.pk]),
        reverse("admin:incidents_integration_try", args=[integration.pk]),
        reverse("admin:incidents_alert_changelist"),
        reverse("admin:incidents_alert_change", args=[alert.pk]),
        reverse("admin:incidents_maintenancewindow_changelist"),
        reverse("admin:incidents_maintenancewindow_add"),
        reverse("admin:incidents_incident_change", args=[incident.pk]),
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert clean(response.content.decode()), path
    posted = [
        client.post(
            reverse("admin:incidents_integration_try", args=[integration.pk]),
            {"payload": json.dumps(alertmanager_payload())},
        ),
        client.post(reverse("admin:incidents_integration_rotate_token", args=[integration.pk])),
    ]
    for response in posted:
        assert response.status_code == 200
        assert clean(response.content.decode())
