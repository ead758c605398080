"""The drill verbs: schedule, edit, start (a tabletop or a chaos experiment), run (a game day),
complete with the assessment, cancel. Each runs in one transaction on the locked drill row,
checks its rule (a ``RuleError`` naming the field rolls everything back), and writes history
and, when the drill has an incident, its timeline.

Running a game day, step by step:

1. A synthetic alert, shaped as the integration's kind posts it (Alertmanager, PagerDuty
   Events v2, generic), is parsed by that integration's own parser and stored by
   ``ingest(drill=True)``: the path a monitor's alert takes, marked as a drill (the alert,
   the incident it declares and every timeline entry say so).
2. The routing must declare one new drill incident; if the alert joined another drill's
   open incident, fell in a maintenance window or routed to no service, the run is refused
   and nothing is kept.
3. Each participant takes the Subject Matter Expert role on the drill incident: the
   escalation engine pages a drill's role holders only (``oncall.services.engine.targets``),
   so the participants are who its steps may page, and nobody else.
4. After commit, the declaration starts the escalation and the engine pages (a drill's pages
   say DRILL); the participants acknowledge and resolve the incident as in a real one, and
   ``drill_complete`` takes its times for the assessment.
"""

from ._base import ACTUALS, EDITABLE, MAX_FAULT_AGE, TARGETS, TEXT_LIMIT
from .assess import ActionItemDraft, drill_add_action_items, drill_cancel, drill_complete
from .run import drill_run, drill_start, synthetic_payload
from .schedule import default_title, drill_schedule, drill_update, plan_defaults, quarter_of

__all__ = [
    "ACTUALS",
    "EDITABLE",
    "MAX_FAULT_AGE",
    "TARGETS",
    "TEXT_LIMIT",
    "ActionItemDraft",
    "default_title",
    "drill_add_action_items",
    "drill_cancel",
    "drill_complete",
    "drill_run",
    "drill_schedule",
    "drill_start",
    "drill_update",
    "plan_defaults",
    "quarter_of",
    "synthetic_payload",
]
