"""The learning API's routes, included by ``config`` under ``api/v1/`` (no app imports
``config``): ``postmortems/`` and ``action-items/`` with their actions."""

from rest_framework.routers import SimpleRouter

from .views import ActionItemViewSet, PostmortemViewSet

router = SimpleRouter()
router.register("postmortems", PostmortemViewSet, basename="postmortem")
router.register("action-items", ActionItemViewSet, basename="action-item")

api_patterns = router.urls
