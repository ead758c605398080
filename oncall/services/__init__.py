"""The on-call verbs: every change a person (or the clock) makes to schedules goes through
one of these. Keyword-only, one transaction each, history attributed; a bad value is a
``RuleError`` naming the field, a rotation that breaks the seeds' rules a
``WarningsNotAccepted`` until accepted."""

from ._base import Saved, WarningsNotAccepted, confirm_rules, warning_keys
from .coverage import (
    override_create,
    override_delete,
    skip_add,
    skip_remove,
    swap_assign,
    swap_cancel,
    swap_offer,
    swap_take,
)
from .feeds import (
    feed_token_create,
    feed_token_find,
    feed_token_revoke,
    may_make_feed,
    may_revoke_feed,
)
from .handoffs import handoffs_send_due, replan_handoffs
from .schedules import (
    layer_create,
    layer_delete,
    layer_update,
    roster_delete,
    roster_set,
    schedule_create,
    schedule_delete,
    schedule_update,
)

__all__ = [
    "Saved",
    "WarningsNotAccepted",
    "confirm_rules",
    "feed_token_create",
    "feed_token_find",
    "feed_token_revoke",
    "handoffs_send_due",
    "layer_create",
    "layer_delete",
    "layer_update",
    "may_make_feed",
    "may_revoke_feed",
    "override_create",
    "override_delete",
    "replan_handoffs",
    "roster_delete",
    "roster_set",
    "schedule_create",
    "schedule_delete",
    "schedule_update",
    "skip_add",
    "skip_remove",
    "swap_assign",
    "swap_cancel",
    "swap_offer",
    "swap_take",
    "warning_keys",
]
