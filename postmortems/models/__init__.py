"""Learning: postmortems, action items, drills and the cost of incidents. One module per
area; this names the public parts."""

from postmortems.models.actions import ActionItem, ActionItemDeadline
from postmortems.models.cost import CostAssessment, CostLine, CostRates, ServiceCost
from postmortems.models.drills import Drill, DrillPlan, DrillScenario
from postmortems.models.postmortems import Postmortem, PostmortemTimelineEntry
from postmortems.models.reports import ReportMailing

__all__ = [
    "ActionItem",
    "ActionItemDeadline",
    "CostAssessment",
    "CostLine",
    "CostRates",
    "Drill",
    "DrillPlan",
    "DrillScenario",
    "Postmortem",
    "PostmortemTimelineEntry",
    "ReportMailing",
    "ServiceCost",
]
