"""The incident page's essentials panel: the state of the incident and the buttons this
viewer may use on it (the verb table decides; the incident's state says what applies)."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from ircore import hooks

from .. import permissions as verbs
from .. import services
from ..forms import CHECKPOINT_LABELS, NoteForm, severity_badge
from ..markdown import render_markdown
from ..models import Incident, RoleAssignment
from ..selectors import checklist_progress, missing_roles, runbooks_for
from ..templatetags.ir_time import zone_label
from .access import allowed
from .display import age_text, regulatory_state


class IncidentPage:
    """Mixed into ``IncidentAdmin``: what ``render_change_form`` adds to the page."""

    def _essentials(self, request: HttpRequest, incident: Incident) -> dict[str, Any]:
        """What a responder needs first: the state of the incident and what to do next."""
        now = timezone.now()
        progress = checklist_progress(incident)
        current = list(
            RoleAssignment.objects.filter(incident=incident, relieved_at__isnull=True)
            .select_related("user")
            .order_by("role", "-assigned_at")
        )
        ic = next((a for a in current if a.role == RoleAssignment.Role.INCIDENT_COMMANDER), None)
        # The IC has its own line; other required roles nobody holds are called out.
        lacking = [
            {"role": role, "label": RoleAssignment.Role(role).label}
            for role in missing_roles(incident, current)
            if role != RoleAssignment.Role.INCIDENT_COMMANDER
        ]
        buttons = self._buttons(request, incident)
        pk = incident.pk
        checkpoints = []
        if incident.security_tracked:
            for key, label in CHECKPOINT_LABELS.items():
                checkpoints.append(
                    {
                        "key": key,
                        "label": label,
                        "at": getattr(incident, services.SECURITY_CHECKPOINTS[key]),
                        "url": f"{self._url('security', pk)}?checkpoint={key}",
                    }
                )
        user = request.user
        # Show only what the viewer may read elsewhere (as the API detail does): Support sees
        # the incident, not who runs it, its checklist or the runbooks.
        sees_roles = allowed(user, verbs.VIEW_ROLES)
        sees_checklist = allowed(user, verbs.VIEW_CHECKLIST)
        sees_runbooks = allowed(user, verbs.VIEW_RUNBOOKS)
        return {
            "ir": {
                "sees_roles": sees_roles,
                "sees_checklist": sees_checklist,
                "severity_badge": severity_badge(incident.severity),
                "age": age_text(incident, now),
                "ic": ic if sees_roles else None,
                "missing_roles": lacking if sees_roles else [],
                "checklist": progress,
                "regulatory": regulatory_state(incident, now),
                # What the apps above add (comms: the next update due), one query.
                "badges": hooks.incident_badges([incident], now=now).get(incident.pk, []),
                "checkpoints": checkpoints,
                "moves": [
                    {
                        "status": status,
                        "label": Incident.Status(status).label,
                        "url": f"{self._url('status', pk)}?status={status}",
                    }
                    for status in services.allowed_moves(incident)
                ]
                if buttons["move"]
                else [],
                "runbooks": [(rb, render_markdown(rb.body)) for rb in runbooks_for(incident)]
                if sees_runbooks
                else [],
                "can": {
                    **buttons,
                    "tick": buttons["tick"] and sees_checklist and bool(progress.total),
                },
                "note_form": NoteForm(auto_id="note_%s"),
                "zone": zone_label(),
                "urls": {
                    name: self._url(name, pk)
                    for name in (
                        "acknowledge",
                        "status",
                        "severity",
                        "role",
                        "checklist",
                        "note",
                        "security",
                    )
                },
            }
        }

    def _buttons(self, request: HttpRequest, incident: Incident) -> dict[str, bool]:
        """Which of the page's buttons this viewer gets on this incident: the verb table
        says who may and what a closed incident still takes; the state says what applies
        (nothing to acknowledge once resolved or acknowledged, no move out of closed)."""
        user = request.user

        def can(name: str) -> bool:
            return allowed(user, name, incident)

        return {
            "acknowledge": can(verbs.ACKNOWLEDGE)
            and incident.is_open
            and incident.acknowledged_at is None,
            "move": can(verbs.MOVE) and bool(services.allowed_moves(incident)),
            "severity": can(verbs.CHANGE_SEVERITY),
            "assign": can(verbs.ASSIGN_ROLE),
            "tick": can(verbs.TICK),
            "note": can(verbs.NOTE),
            "checkpoint": can(verbs.MARK_CHECKPOINT),
        }


def buttons_help(buttons: dict[str, bool]) -> str:
    """The Details help text, naming only the buttons the viewer has."""
    named = [
        label for key, label in (("severity", "severity"), ("move", "status")) if buttons.get(key)
    ]
    if not named:
        return ""
    subject = " and ".join(named).capitalize()
    verb = "change" if len(named) > 1 else "changes"
    return f"{subject} {verb} only with the buttons above."
