"""The inbound endpoints: under /api/v1/ (``api_patterns``) and PagerDuty's own path
(``enqueue_patterns``, at the site root), so PagerDuty clients only change the base URL."""

from django.urls import path

from . import api

api_patterns = [
    path("alerts/alertmanager/", api.alertmanager, name="alerts-alertmanager"),
    path("alerts/events/", api.events, name="alerts-events"),
    path("alerts/generic/", api.generic, name="alerts-generic"),
    path("alerts/heartbeat/<str:token>/", api.heartbeat, name="alerts-heartbeat"),
]

enqueue_patterns = [
    path("v2/enqueue", api.events, name="alerts-enqueue"),
    path("v2/enqueue/", api.events),
]
