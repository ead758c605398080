"""The verbs of the incident lifecycle, one module per area; import them from here.

Each function runs in one transaction on a locked incident row, checks its rule (raising
``RuleError``/``ConflictError``, which rolls everything back), stamps the time, writes the
timeline and history, and sends its event after commit. The admin, the API, Celery tasks and
commands all call these; none of them repeats the logic.

Areas: ``declaration``, ``lifecycle`` (acknowledge, status, severity), ``details`` (edits and
corrections), ``thresholds``, ``roles``, ``checklist``, ``affected`` (services), ``timeline``,
``security``; ``_base`` holds what they share (the row lock, what a closed incident accepts,
time and text checks).
"""

from ._base import (
    AMOUNT_LIMIT,
    COUNT_LIMITS,
    EARLIEST,
    EDITABLE_FIELDS,
    IMPACT_FIELDS,
    SECURITY_CHECKPOINTS,
    check_chronology,
)
from .affected import affected_service_remove, affected_service_set
from .checklist import checklist_tick
from .declaration import channel_name_for, incident_declare
from .details import check_channel_name, check_incident_update, incident_update
from .lifecycle import (
    TRANSITIONS,
    allowed_moves,
    incident_acknowledge,
    incident_change_severity,
    incident_set_status,
)
from .roles import role_assign, role_relieve
from .security import security_checkpoint_mark
from .timeline import note_add, timeline_add

__all__ = [
    "AMOUNT_LIMIT",
    "COUNT_LIMITS",
    "EARLIEST",
    "EDITABLE_FIELDS",
    "IMPACT_FIELDS",
    "SECURITY_CHECKPOINTS",
    "TRANSITIONS",
    "affected_service_remove",
    "affected_service_set",
    "allowed_moves",
    "channel_name_for",
    "check_channel_name",
    "check_chronology",
    "check_incident_update",
    "checklist_tick",
    "incident_acknowledge",
    "incident_change_severity",
    "incident_declare",
    "incident_set_status",
    "incident_update",
    "note_add",
    "role_assign",
    "role_relieve",
    "security_checkpoint_mark",
    "timeline_add",
]
