"""Learning: postmortems, action items, drills and the cost of incidents. One module per
area; this names the public parts."""

from postmortems.models.actions import ActionItem
from postmortems.models.cost import CostAssessment, CostLine, CostRates, ServiceCost
from postmortems.models.drills import Drill, DrillPlan, DrillScenario
from postmortems.models.postmortems import Postmortem

__all__ = [
    "ActionItem",
    "CostAssessment",
    "CostLine",
    "CostRates",
    "Drill",
    "DrillPlan",
    "DrillScenario",
    "Postmortem",
    "ServiceCost",
]
