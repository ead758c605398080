"""The ircore admin, one module per area; importing the package registers them all.

- ``policy``: severities (with their checklists), incident types, financial thresholds;
- ``policy_file``: the policy file's export and import views (on the severity list);
- ``catalog``: teams and services;
- ``people``: incident profiles, and the user admin with its user picker;
- ``notifications``: notification endpoints and the delivery log;
- ``heartbeat``: the periodic jobs' heartbeats;
- ``durations``: the "15m, 4h, 2d" duration field and column the policy pages share.
"""

from django.contrib import admin

from . import catalog, heartbeat, people, policy, policy_file
from .durations import DURATION_OVERRIDES, HumanDurationField, duration_column
from .notifications import register as register_notifications
from .policy_file import (
    POLICY_PREVIEW_MAX_AGE,
    POLICY_UPLOAD_MAX_BYTES,
    PolicyImportForm,
    PolicyUpload,
    SectionChanges,
    preview_policy_import,
    section_title,
)

register_notifications(admin.site)

__all__ = [
    "DURATION_OVERRIDES",
    "POLICY_PREVIEW_MAX_AGE",
    "POLICY_UPLOAD_MAX_BYTES",
    "HumanDurationField",
    "PolicyImportForm",
    "PolicyUpload",
    "SectionChanges",
    "catalog",
    "duration_column",
    "heartbeat",
    "people",
    "policy",
    "policy_file",
    "preview_policy_import",
    "section_title",
]
