"""The project's URLs plus the on-call ones, as ``config.urls`` is asked to include them."""

from django.urls import include, path

from config.urls import handler404
from config.urls import urlpatterns as project
from oncall.urls import api_patterns, feed_patterns

urlpatterns = [
    path("api/v1/", include(api_patterns)),
    path("oncall/feeds/", include(feed_patterns)),
    *project,
]

__all__ = ["handler404", "urlpatterns"]
