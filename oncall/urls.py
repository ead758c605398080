"""The on-call URLs, included by ``config.urls`` (no app imports ``config``):

- ``api_patterns`` under ``api/v1/``: ``oncall/now/``, ``schedules/`` (with ``shifts``) and
  ``pages/`` (with ``acknowledge``);
- ``feed_patterns`` under ``oncall/feeds/``: ``<token>.ics``, without login.

The admin pages (calendar, who is on call now) come with the admin site.
"""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from .api import OnCallNowView, PageViewSet, ScheduleViewSet
from .views import feed

router = SimpleRouter()
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("pages", PageViewSet, basename="page")

api_patterns = [
    path("oncall/now/", OnCallNowView.as_view(), name="oncall-now"),
    *router.urls,
]

feed_patterns = [
    re_path(r"^(?P<token>[A-Za-z0-9_-]{20,100})\.ics$", feed, name="oncall-feed"),
]
