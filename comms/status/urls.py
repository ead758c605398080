"""The public status page's URLs, mounted at the site's root by ``config.urls``
(``path("", include("comms.status.urls"))``): no login, nothing internal."""

from django.urls import path

from comms.status import feeds, views, views_subscribe

urlpatterns = [
    path("status/", views.status, name="status-page"),
    path("status.json", views.status_json, name="status-json"),
    path("status/feed.atom", feeds.UpdatesFeed(), name="status-feed"),
    path("status/incidents/<int:pk>/", views.incident, name="status-incident"),
    path("status/subscribe/", views_subscribe.subscribe, name="status-subscribe"),
    path("status/subscribe/sent/", views_subscribe.subscribe_sent, name="status-subscribe-sent"),
    path(
        "status/subscribe/confirm/<str:token>/",
        views_subscribe.confirm,
        name="status-confirm",
    ),
    path("status/unsubscribe/<str:token>/", views_subscribe.unsubscribe, name="status-unsubscribe"),
]
