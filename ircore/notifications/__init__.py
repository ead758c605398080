"""One way to send: email, chat webhook or generic webhook, with a delivery log and retries.

Every message is a ``Delivery`` row first and a network call second:

1. ``notify_user`` / ``notify_contact`` / ``notify_endpoint`` / ``notify_email`` write the
   rows (idempotent on ``dedupe_key``) and, after the transaction commits, enqueue
   ``send_delivery_task``. A broker that refuses is logged and leaves the row queued: never
   an error for the caller, whose work is committed by then.
2. ``deliver`` claims one row, sends it outside any transaction and records the outcome:
   sent, retrying with exponential backoff, or failed once attempts run out.
3. The beat reconciler ``send_due`` sends whatever is queued or retrying and due, so a lost
   task message, a dead worker or a broker outage only delays a message.

Every message may carry a ``link`` (an absolute URL, see ``ircore.links.absolute_url``) to
the page it is about; each channel renders it: the email's last line, a line of the chat
message, the webhook's ``"link"`` field. It is stored in the row's payload under ``"link"``.

A message that cannot be sent at all (a user with no address, an inactive endpoint) is still
written, as a failed row whose ``last_error`` says why: nothing is lost silently.
"""

from ._common import KEY_MAX, LINK_KEY, Channel, Status
from .create import notify_contact, notify_email, notify_endpoint, notify_user
from .reconcile import due_deliveries, retry_now, send_due, withdraw
from .send import SendError, _claim, deliver, retry_backoff

__all__ = [
    "KEY_MAX",
    "LINK_KEY",
    "Channel",
    "SendError",
    "Status",
    "_claim",
    "deliver",
    "due_deliveries",
    "notify_contact",
    "notify_email",
    "notify_endpoint",
    "notify_user",
    "retry_backoff",
    "retry_now",
    "send_due",
    "withdraw",
]
