"""The incident admin: the primary UI for running a response.

Pages read through ``incidents.selectors`` and change things only through
``incidents.services``: the edit form's save calls ``incident_update``, the inlines call
``affected_service_set/remove`` and ``checklist_tick``, and every button and list action
(acknowledge, move status, change severity, assign a role, tick, note, security checkpoint)
calls its verb and reports the outcome with ``message_user``. A refused rule comes back as a
form error or an error message, never a 500, and a refused save writes nothing.

Who sees a button, opens an action view, runs a list action or edits an inline is the verb
table's answer (``access``: ``ircore.verbs`` + ``incidents.permissions``), the same the API
gets; a closed incident takes notes only.

Modules: ``incident`` (the admin class, list and URLs), ``page`` (the essentials panel),
``saving`` (save through the services), ``buttons`` (action views, declare), ``bulk`` (list
actions), ``inlines`` (with ``paging``: one page of a long timeline or alert list),
``filters``, ``display`` (durations, times with their zone, notes), ``records`` (runbooks,
crossings, the timeline's own pages).
"""

# Detection's admin lives in its own area (``incidents.alerts``), registered here.
from ..alerts import admin as _alerts_admin  # noqa: F401, E402
from ..alerts import admin_maintenance as _maintenance_admin  # noqa: F401, E402
from . import incident, records  # noqa: F401  (registers the admins)
