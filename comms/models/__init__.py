"""Communications: templates, notices and their review, the update cadence, the status page's
subscribers. One module per area; this names the public parts."""

from comms.models.audience import Audience
from comms.models.cadence import UpdateDue
from comms.models.notices import InternalRoute, Notice, NoticeComment
from comms.models.status import Subscriber
from comms.models.templates import Template

__all__ = [
    "Audience",
    "InternalRoute",
    "Notice",
    "NoticeComment",
    "Subscriber",
    "Template",
    "UpdateDue",
]
