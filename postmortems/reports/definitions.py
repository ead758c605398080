"""What each figure of the reports means, in words: printed next to the figures on the pages,
in the CSV of the figures and in the API's ``definitions``. The code that computes them is
``postmortems.reports.build`` (durations: ``postmortems.durations``)."""

from .periods import zone_note

REPEAT_DAYS = 30
TOP = 5

_TEXTS = {
    "period": "{zone}",
    "total": (
        "Incidents declared in the period, drills excluded (Incident.objects.real()); the "
        "change is against the period before, of the same length."
    ),
    "drills_excluded": "Drill incidents declared in the period: counted in no figure.",
    "mttd": (
        "Mean time to detect: the mean of detected minus impact started, over the period's "
        "incidents that have both times."
    ),
    "mtta": (
        "Mean time to acknowledge: the mean of acknowledged minus detected, over the "
        "incidents that have both times. Target: the severity's time to acknowledge."
    ),
    "mttr": (
        "Mean time to resolve: the mean of resolved minus detected, over the incidents that "
        "have both times. Target: the severity's time to resolve."
    ),
    "within_target": (
        "Within target: of the incidents with both times, how many were acknowledged "
        "(resolved) within their severity's target."
    ),
    "null": "A dash (null in the API) where no incident of the period has both times.",
    "uptime": (
        "Uptime of each public service over the period up to now, as the status page counts "
        "it (comms.status.uptime)."
    ),
    "categories": (
        "Top {top} incident types, affected services, and teams (the teams owning the "
        "affected services) by the number of the period's incidents."
    ),
    "repeats": (
        "Repeat incidents: incidents of the period that affect a service on which an "
        "incident of the same type was declared in the {days} days before."
    ),
    "cost": (
        "Cost of incidents: the sum of the cost assessments' totals of the period's "
        "incidents (incidents without an assessment add nothing)."
    ),
    "postmortems": (
        "Postmortems due: those of real incidents whose deadline falls in the period; on "
        "time: of those, published by the deadline."
    ),
    "action_items": (
        "Action items completed: finished (done or won't do) in the period, by the time "
        "they were finished; overdue: still unfinished today and due before the day after "
        "the period (before today while the period runs). Drills' items are left out."
    ),
    "cadence": (
        "Update cadence kept: of the internal and customer updates the period's incidents "
        "owed by now, the share sent on time."
    ),
    "oncall": (
        "On-call load over the period up to now, as the on-call report counts it: hours on "
        "call, pages sent (drills excluded) and those sent 22:00-08:00 on the person's clock."
    ),
}


def definitions() -> dict[str, str]:
    """``{figure: text}``, the zone and the constants filled in."""
    return {
        key: text.format(zone=zone_note(), top=TOP, days=REPEAT_DAYS)
        for key, text in _TEXTS.items()
    }
