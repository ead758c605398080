"""/status/ and /status.json cost a fixed number of queries whatever the history holds,
with the cache cold (everything derived again) and warm, at two sizes built by the bench's
own generator (50 components, 90 days, incidents with their services' history, two open,
one in ten with published updates)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comms import bench
from comms.models import Notice
from incidents.models import Incident
from ircore.bench import Context

pytestmark = pytest.mark.django_db

# 40: the small set already holds a recently resolved incident with updates (index 33), so
# both sizes list past incidents (an empty list skips its prefetch queries).
SMALL, LARGE = 40, 240
# Cold: services, maintenance, the data marks, one cache read (4); the "current" entry:
# active and recent incidents with their notices, notice components and affected services
# (8), open statuses (1), its write (5 statements with the database cache); the history:
# the rebuild lock taken and released, two queries, the latest figures kept, the writes of
# its figures and bars. 41 for the page with the database cache (which takes several
# statements per write); 14 with Redis (3 warm: no query for the cache).
COLD_MAX = 41
# Warm: services, maintenance, the data marks, one cache read (of every entry at once).
WARM_MAX = 4


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.fixture
def grown():
    ctx = Context(now=timezone.now(), small=SMALL, large=LARGE, client=Client(), superuser=None)
    bench.setup_status(ctx)
    return ctx


@pytest.mark.parametrize("url", ["/status/", "/status.json"])
def test_fixed_queries_at_two_sizes(grown, url, django_assert_max_num_queries):
    client = Client()
    counts = {}
    for size, (start, stop) in (("small", (0, SMALL)), ("large", (SMALL, LARGE))):
        bench.grow_status(grown, start, stop)
        cache.clear()
        with django_assert_max_num_queries(COLD_MAX):
            client.get(url)
        cache.clear()
        cold = _count(client, url)
        with django_assert_max_num_queries(WARM_MAX):
            client.get(url)
        counts[size] = (cold, _count(client, url))
    assert Incident.objects.count() == LARGE
    assert Notice.objects.filter(status="published").count() > 10
    assert counts["small"] == counts["large"], counts
