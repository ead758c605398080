"""The drill and cost verbs and who may do each (see ``ircore.verbs``); the admin and the
services read them from here. Leadership reads drills and cost assessments and changes
neither (its group holds only the view permissions, ``PostmortemsConfig.role_grants``)."""

from ircore.verbs import Verb, may, register

VIEW_DRILL = "view_drill"
SCHEDULE_DRILL = "schedule_drill"
RUN_DRILL = "run_drill"
COMPLETE_DRILL = "complete_drill"
CANCEL_DRILL = "cancel_drill"
VIEW_COST = "view_cost"
ASSESS_COST = "assess_cost"
ADJUST_COST = "adjust_cost"

_DRILL = "postmortems.view_drill"
_COST = ("incidents.view_incident", "postmortems.view_costassessment")

register(
    Verb(VIEW_DRILL, (_DRILL,), "Read drills, their targets and assessments."),
    Verb(SCHEDULE_DRILL, (_DRILL, "postmortems.add_drill"), "Schedule a drill."),
    Verb(
        RUN_DRILL,
        (_DRILL, "postmortems.change_drill", "postmortems.run_drill"),
        "Start a drill; a game day injects a synthetic alert through an integration.",
    ),
    Verb(
        COMPLETE_DRILL,
        (_DRILL, "postmortems.change_drill"),
        "Record a drill's assessment (times, what went well, action items) and end it.",
    ),
    Verb(CANCEL_DRILL, (_DRILL, "postmortems.change_drill"), "Cancel a drill, with a reason."),
    # Cost is assessed after the incident, closed ones included.
    Verb(VIEW_COST, _COST, "Read an incident's cost assessment.", on_closed=True),
    Verb(
        ASSESS_COST,
        (*_COST, "postmortems.add_costassessment", "postmortems.change_costassessment"),
        "Open an incident's cost assessment, or refresh its pre-filled figures.",
        on_closed=True,
    ),
    Verb(
        ADJUST_COST,
        (*_COST, "postmortems.change_costline"),
        "Adjust a line of a cost assessment (the pre-filled figure is kept).",
        on_closed=True,
    ),
)

__all__ = [
    "ADJUST_COST",
    "ASSESS_COST",
    "CANCEL_DRILL",
    "COMPLETE_DRILL",
    "RUN_DRILL",
    "SCHEDULE_DRILL",
    "VIEW_COST",
    "VIEW_DRILL",
    "may",
]
