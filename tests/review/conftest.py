# Reuse the incident fixtures (severities, catalog, people, declare ...).
from tests.incidents.conftest import *  # noqa: F401,F403
