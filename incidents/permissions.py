"""The incident verbs and who may do each (see ``ircore.verbs``).

Every verb on an existing incident needs ``view_incident`` plus the permission of what it
writes: ticking needs ``change_checklistitem``, not ``change_incident``, so a custom group can
hold one without the other and the admin and the API still agree.

A closed incident is a finished record: it takes notes (a late remark, a link to the
postmortem) and nothing else. Re-open it before closing would be the way to change it, and
closing is final, so corrections belong to the resolved stage.
"""

from typing import Any

from ircore.verbs import Verb, register, verb

VIEW = "incidents.view_incident"
CHANGE = (VIEW, "incidents.change_incident")

DECLARE = "declare"
ACKNOWLEDGE = "acknowledge"
MOVE = "move"
CHANGE_SEVERITY = "change_severity"
EDIT_DETAILS = "edit_details"
ASSIGN_ROLE = "assign_role"
RELIEVE_ROLE = "relieve_role"
OVERRIDE_IC_CERTIFICATION = "override_ic_certification"
TICK = "tick"
NOTE = "note"
SET_SERVICE = "set_service"
REMOVE_SERVICE = "remove_service"
MARK_CHECKPOINT = "mark_checkpoint"
VIEW_INCIDENT = "view_incident"
VIEW_TIMELINE = "view_timeline"
VIEW_ROLES = "view_roles"
VIEW_CHECKLIST = "view_checklist"
VIEW_RUNBOOKS = "view_runbooks"

register(
    Verb(DECLARE, ("incidents.add_incident",), "Declare an incident."),
    Verb(VIEW_INCIDENT, (VIEW,), "Read incidents.", on_closed=True),
    Verb(
        VIEW_TIMELINE, (VIEW, "incidents.view_timelineentry"), "Read the timeline.", on_closed=True
    ),
    Verb(VIEW_ROLES, (VIEW, "incidents.view_roleassignment"), "See who holds which role.", True),
    Verb(VIEW_CHECKLIST, (VIEW, "incidents.view_checklistitem"), "See the checklist.", True),
    Verb(VIEW_RUNBOOKS, (VIEW, "incidents.view_runbook"), "See the runbooks.", True),
    Verb(ACKNOWLEDGE, CHANGE, "Acknowledge an incident."),
    Verb(MOVE, CHANGE, "Move an incident to another status."),
    Verb(CHANGE_SEVERITY, CHANGE, "Change an incident's severity."),
    Verb(EDIT_DETAILS, CHANGE, "Edit title, summary, type, impact, times."),
    Verb(MARK_CHECKPOINT, CHANGE, "Record a security checkpoint."),
    Verb(ASSIGN_ROLE, (VIEW, "incidents.add_roleassignment"), "Assign a role."),
    Verb(RELIEVE_ROLE, (VIEW, "incidents.change_roleassignment"), "Relieve a role holder."),
    Verb(
        OVERRIDE_IC_CERTIFICATION,
        (VIEW, "incidents.add_roleassignment", "incidents.override_ic_certification"),
        "Assign an uncertified Incident Commander, with a reason.",
    ),
    Verb(TICK, (VIEW, "incidents.change_checklistitem"), "Tick a checklist item."),
    Verb(NOTE, (VIEW, "incidents.add_timelineentry"), "Add a note.", on_closed=True),
    Verb(
        SET_SERVICE,
        (*CHANGE, "incidents.add_incidentservice", "incidents.change_incidentservice"),
        "Add an affected service or change its status.",
    ),
    Verb(
        REMOVE_SERVICE,
        (*CHANGE, "incidents.delete_incidentservice"),
        "Remove an affected service (never the last).",
    ),
)


def accepts(incident: Any, name: str) -> bool:
    """Whether the incident still takes the verb: a closed incident takes only the verbs
    marked ``on_closed`` (notes). The services enforce it; the admin hides what it refuses."""
    return not (incident.is_closed and not verb(name).on_closed)


def closed_refusal(incident: Any) -> str:
    return f"{incident.reference} is closed; a closed incident takes notes only."
