"""The postmortem and action-item verbs and who may do each (see ``ircore.verbs``).

Two layers, both here, both asked by the admin, the API and the services alike:

1. The verb table: the Django permissions a verb needs (role groups grant them, see
   ``PostmortemsConfig.role_grants``). Leadership holds only the ``view`` ones.
2. Whose postmortem: holding ``change_postmortem`` lets a responder write the postmortems
   they *take part in*: the ones they own, and those of incidents on which they held a role
   (IC, tech lead, comms lead, SME, executive sponsor) or which they declared. Incident
   managers hold ``manage_postmortem`` and write any; publishing and re-opening need
   ``publish_postmortem`` (incident managers).

Action items follow their postmortem: whoever may write it may add and change its items, and
an item's owner may always move their own item along (status, evidence), even once the
postmortem is published.
"""

from typing import Any

from ircore.errors import RuleError
from ircore.verbs import Verb, may, register

VIEW = "postmortems.view_postmortem"
CHANGE = (VIEW, "postmortems.change_postmortem")
MANAGE = "postmortems.manage_postmortem"
PUBLISH = "postmortems.publish_postmortem"
VIEW_ITEMS = "postmortems.view_actionitem"

VIEW_POSTMORTEM = "view_postmortem"
OPEN_POSTMORTEM = "open_postmortem"
EDIT_POSTMORTEM = "edit_postmortem"
SUBMIT_POSTMORTEM = "submit_postmortem"
PUBLISH_POSTMORTEM = "publish_postmortem"
REOPEN_POSTMORTEM = "reopen_postmortem"
REASSIGN_POSTMORTEM = "reassign_postmortem"
SET_POSTMORTEM_DEADLINE = "set_postmortem_deadline"
VIEW_ACTION_ITEMS = "view_action_items"
ADD_ACTION_ITEM = "add_action_item"
EDIT_ACTION_ITEM = "edit_action_item"

register(
    Verb(VIEW_POSTMORTEM, (VIEW,), "Read postmortems and export them."),
    Verb(OPEN_POSTMORTEM, (VIEW, "postmortems.add_postmortem"), "Open a postmortem by hand."),
    Verb(EDIT_POSTMORTEM, CHANGE, "Write a postmortem one takes part in (any: managers)."),
    Verb(SUBMIT_POSTMORTEM, CHANGE, "Send a postmortem for review, or back to draft."),
    Verb(PUBLISH_POSTMORTEM, (*CHANGE, PUBLISH), "Publish a postmortem in review."),
    Verb(REOPEN_POSTMORTEM, (*CHANGE, PUBLISH), "Re-open a published postmortem, with a reason."),
    Verb(REASSIGN_POSTMORTEM, CHANGE, "Hand a postmortem to another owner (any: managers)."),
    Verb(SET_POSTMORTEM_DEADLINE, (*CHANGE, MANAGE), "Move a postmortem's deadline by hand."),
    Verb(VIEW_ACTION_ITEMS, (VIEW_ITEMS,), "Read action items."),
    Verb(ADD_ACTION_ITEM, (VIEW_ITEMS, "postmortems.add_actionitem"), "Add an action item."),
    Verb(
        EDIT_ACTION_ITEM,
        (VIEW_ITEMS, "postmortems.change_actionitem"),
        "Change an action item one owns or whose postmortem one writes.",
    ),
)


class NotAllowed(RuleError):
    """The person may do the verb, but not on this row (someone else's postmortem): 403."""

    status_code = 403


def manages(user: Any) -> bool:
    return bool(user and user.is_active and user.has_perm(MANAGE))


def takes_part(user: Any, postmortem: Any) -> bool:
    """Owns it, declared the incident, or held a role on it."""
    if not getattr(user, "pk", None):
        return False
    if postmortem.owner_id == user.pk or postmortem.incident.created_by_id == user.pk:
        return True
    return postmortem.incident.roles.filter(user_id=user.pk).exists()


def may_write(user: Any, postmortem: Any) -> bool:
    """Whether ``user`` may write this postmortem (its sections, timeline and items)."""
    return may(user, EDIT_POSTMORTEM) and (manages(user) or takes_part(user, postmortem))


def may_reassign(user: Any, postmortem: Any) -> bool:
    """Managers hand any postmortem over; an owner may hand their own over."""
    if not may(user, REASSIGN_POSTMORTEM):
        return False
    return manages(user) or (user.pk is not None and postmortem.owner_id == user.pk)


def may_change_item(user: Any, item: Any) -> bool:
    """The item's owner, whoever writes its postmortem, or a manager."""
    if not may(user, EDIT_ACTION_ITEM):
        return False
    if manages(user) or item.owner_id == user.pk:
        return True
    return item.postmortem_id is not None and takes_part(user, item.postmortem)


def may_add_item(user: Any, postmortem: Any) -> bool:
    if not may(user, ADD_ACTION_ITEM):
        return False
    return postmortem is None or manages(user) or takes_part(user, postmortem)


def check(allowed: bool, what: str) -> None:
    """Refuse with a 403 naming what could not be done."""
    if not allowed:
        raise NotAllowed(f"You may not {what}.")


__all__ = ["NotAllowed", "may", "may_write", "may_reassign", "may_change_item", "takes_part"]
