"""What the admin asks the verb table (``ircore.verbs`` + ``incidents.permissions``) before it
shows a button, opens an action view, runs a list action or makes an inline editable.

Two questions, both from the table: does the person hold the verb's permissions, and does
the incident (if there is one) still accept the verb (a closed incident takes notes only).
The API asks the same table, so a button is shown exactly when the API would take the call.
"""

from typing import Any

from ircore.verbs import may

from ..models import Incident
from ..permissions import accepts, closed_refusal


def refuses(incident: Incident | None, name: str) -> bool:
    """Whether the incident no longer takes the verb: it is closed and the verb is not one
    a closed incident accepts."""
    return incident is not None and not accepts(incident, name)


def allowed(user: Any, name: str, incident: Incident | None = None) -> bool:
    """``user`` may use the verb, on ``incident`` if given."""
    return may(user, name) and not refuses(incident, name)


def refusal(incident: Incident) -> str:
    return closed_refusal(incident)
