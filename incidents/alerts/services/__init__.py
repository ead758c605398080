"""Detection services: integrations, parsing, routing, ingestion, heartbeats, maintenance.
Import them from here; the API, tasks, admin and commands call these and nothing else."""

from .heartbeats import (
    HEARTBEAT_KEY,
    WATCHDOG,
    heartbeat_ping,
    heartbeat_rearm,
    heartbeats_check,
)
from .ingest import IngestResult, IntegrationRefused, ingest, plan
from .integrations import (
    integration_create,
    integration_for_token,
    integration_rotate_token,
    integration_set_heartbeat,
    integration_update,
    token_hash,
)
from .maintenance import maintenance_window_create, maintenance_window_end
from .parse import ParsedAlert, PayloadError, parse
from .preview import AlertPreview, preview

__all__ = [
    "HEARTBEAT_KEY",
    "WATCHDOG",
    "AlertPreview",
    "IngestResult",
    "IntegrationRefused",
    "ParsedAlert",
    "PayloadError",
    "heartbeat_ping",
    "heartbeat_rearm",
    "heartbeats_check",
    "ingest",
    "integration_create",
    "integration_for_token",
    "integration_rotate_token",
    "integration_set_heartbeat",
    "integration_update",
    "maintenance_window_create",
    "maintenance_window_end",
    "parse",
    "plan",
    "preview",
    "token_hash",
]
