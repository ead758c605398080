"""Learning: postmortems, action items, drills and the cost of incidents. One module per
area; this names the public parts."""

from postmortems.models.actions import ActionItem, ActionItemDeadline
from postmortems.models.cost import CostAssessment
from postmortems.models.drills import Drill
from postmortems.models.postmortems import Postmortem, PostmortemTimelineEntry
from postmortems.models.reports import ReportMailing

__all__ = [
    "ActionItem",
    "ActionItemDeadline",
    "CostAssessment",
    "Drill",
    "Postmortem",
    "PostmortemTimelineEntry",
    "ReportMailing",
]
