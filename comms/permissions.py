"""The notice verbs and who may do each (see ``ircore.verbs``), and the one function that adds
the per-incident part: the incident's Communications Lead.

By group (the verb table):
- Support staff, responders and incident managers draft, edit, submit and discard notices.
- Incident managers approve and publish any notice (``approve_notice``, ``publish_notice``).
- Whoever holds ``lead_notice_comms`` (managers, responders) approves, publishes and sends back
  the notices of an incident while they are its current Communications Lead: the role is per
  incident, so the table alone cannot say it (``may_review``). Support and Leadership do not
  hold it, so neither publishes even as Communications Lead.
- Legal reviewers give the legal approval that notices about data-loss, security and privacy
  incidents need (``IncidentType.legal_review_required``).
- Nobody approves, or legally approves, a notice they wrote or changed; and the legal
  approval is a second pair of eyes, so it is never the approver's.

``refusal`` says why someone may not (empty when they may). The services enforce it, raising
``NotAllowed`` (403); the admin shows only the buttons it allows and the API answers the same.
A notice verb is accepted on a closed incident (``on_closed``): the post-incident customer
e-mail goes out after the incident is closed, and a review under way still finishes.
"""

from typing import Any

from ircore.errors import RuleError
from ircore.verbs import Verb, may, register

VIEW = "comms.view_notice"

VIEW_NOTICES = "view_notices"
DRAFT_NOTICE = "draft_notice"
EDIT_NOTICE = "edit_notice"
SUBMIT_NOTICE = "submit_notice"
DISCARD_NOTICE = "discard_notice"
APPROVE_NOTICE = "approve_notice"
LEGAL_APPROVE_NOTICE = "legal_approve_notice"
SEND_BACK_NOTICE = "send_back_notice"
PUBLISH_NOTICE = "publish_notice"
LEAD_NOTICE_COMMS = "lead_notice_comms"
MANAGE_INTERNAL_ROUTES = "manage_internal_routes"

register(
    Verb(VIEW_NOTICES, (VIEW,), "Read notices and their review.", on_closed=True),
    Verb(
        DRAFT_NOTICE,
        (VIEW, "comms.add_notice", "incidents.view_incident"),
        "Draft a notice about an incident.",
        on_closed=True,
    ),
    Verb(EDIT_NOTICE, (VIEW, "comms.change_notice"), "Edit a draft notice.", on_closed=True),
    Verb(
        SUBMIT_NOTICE, (VIEW, "comms.change_notice"), "Submit a draft for review.", on_closed=True
    ),
    Verb(DISCARD_NOTICE, (VIEW, "comms.delete_notice"), "Discard a draft notice.", on_closed=True),
    Verb(
        APPROVE_NOTICE,
        (VIEW, "comms.approve_notice"),
        "Approve any notice in review (not one's own).",
        on_closed=True,
    ),
    Verb(
        LEGAL_APPROVE_NOTICE,
        (VIEW, "comms.legal_approve_notice"),
        "Give a notice its legal approval (not one's own, nor one's approval's).",
        on_closed=True,
    ),
    Verb(PUBLISH_NOTICE, (VIEW, "comms.publish_notice"), "Publish any approved notice.", True),
    Verb(
        LEAD_NOTICE_COMMS,
        (VIEW, "comms.lead_notice_comms"),
        "As an incident's Communications Lead: approve, publish and send back its notices.",
        on_closed=True,
    ),
    Verb(
        MANAGE_INTERNAL_ROUTES,
        ("comms.add_internalroute", "comms.change_internalroute", "comms.delete_internalroute"),
        "Say where internal updates go (chat webhooks, e-mail lists).",
    ),
)


class NotAllowed(RuleError):
    """The person may not do this to this notice: HTTP 403, an error message in the admin."""

    status_code = 403


def is_comms_lead(user: Any, incident: Any) -> bool:
    """Whether ``user`` is the incident's current Communications Lead."""
    from incidents.models import RoleAssignment

    if not getattr(user, "pk", None):
        return False
    return RoleAssignment.objects.filter(
        incident_id=incident.pk,
        role=RoleAssignment.Role.COMMS_LEAD,
        user_id=user.pk,
        relieved_at__isnull=True,
    ).exists()


def may_review(user: Any, name: str, incident: Any, *, comms_lead: bool | None = None) -> bool:
    """The one place the incident's role counts: ``user`` may do the review verb ``name``
    (approve, publish) by the table, or as this incident's current Communications Lead with
    ``lead_notice_comms``. ``comms_lead`` passes an answer the caller already has (a page
    asks once for all its buttons)."""
    if may(user, name):
        return True
    if not may(user, LEAD_NOTICE_COMMS):
        return False
    return is_comms_lead(user, incident) if comms_lead is None else comms_lead


def _wrote(user: Any, notice: Any) -> bool:
    if notice.created_by_id == user.pk:
        return True
    return notice.writers.filter(pk=user.pk).exists()


def refusal(user: Any, name: str, notice: Any, *, comms_lead: bool | None = None) -> str:
    """Why ``user`` may not do the verb ``name`` to ``notice``; '' when they may. Whether the
    notice's state allows the step (a draft to submit, an approved notice to publish) is the
    service's rule, not this."""
    incident = notice.incident
    reference = incident.reference
    if not (user and user.is_authenticated and user.is_active):
        return "Log in to do that."
    if name in (APPROVE_NOTICE, PUBLISH_NOTICE):
        if not may_review(user, name, incident, comms_lead=comms_lead):
            does = "approve" if name == APPROVE_NOTICE else "publish"
            lead = f"{reference}'s Communications Lead"
            return f"Only incident managers and {lead} {does} its notices."
        if name == APPROVE_NOTICE:
            if _wrote(user, notice):
                return "You wrote or changed this notice; someone else must approve it."
            if notice.legal_approved_by_id == user.pk:
                return "You gave this notice its legal approval; someone else must approve it."
        return ""
    if name == LEGAL_APPROVE_NOTICE:
        if not may(user, LEGAL_APPROVE_NOTICE):
            return "Only legal reviewers give a notice its legal approval."
        if _wrote(user, notice):
            return "You wrote or changed this notice; another legal reviewer must approve it."
        if notice.approved_by_id == user.pk:
            return "You approved this notice; its legal review needs a second person."
        return ""
    if name == SEND_BACK_NOTICE:
        reviews = may_review(user, APPROVE_NOTICE, incident, comms_lead=comms_lead)
        if not (reviews or may(user, LEGAL_APPROVE_NOTICE)):
            return (
                f"Only incident managers, {reference}'s Communications Lead and legal "
                "reviewers send a notice back."
            )
        return ""
    if not may(user, name):
        return {
            EDIT_NOTICE: "You may not edit notices.",
            SUBMIT_NOTICE: "You may not submit notices for review.",
            DISCARD_NOTICE: "You may not discard notices.",
            VIEW_NOTICES: "You may not read notices.",
        }.get(name, "You may not do that.")
    return ""


def check(user: Any, name: str, notice: Any) -> None:
    """Raise ``NotAllowed`` with the reason when ``user`` may not do ``name`` to ``notice``."""
    reason = refusal(user, name, notice)
    if reason:
        raise NotAllowed(reason)


# A step of the review (``Notice.allows``) and the verb it needs.
STEP_VERBS = {
    "submit": SUBMIT_NOTICE,
    "approve": APPROVE_NOTICE,
    "legal_approve": LEGAL_APPROVE_NOTICE,
    "send_back": SEND_BACK_NOTICE,
    "publish": PUBLISH_NOTICE,
    "discard": DISCARD_NOTICE,
}


def steps(user: Any, notice: Any) -> dict[str, bool]:
    """The steps ``user`` may take on ``notice`` now: its state allows the step and they may
    do its verb (one Communications Lead query for all). The admin's buttons and the API's
    ``actions`` are this."""
    comms_lead = is_comms_lead(user, notice.incident)
    return {
        step: notice.allows(step) and not refusal(user, name, notice, comms_lead=comms_lead)
        for step, name in STEP_VERBS.items()
    }


def may_draft_any(user: Any) -> bool:
    return may(user, DRAFT_NOTICE)


def may_review_any(user: Any) -> bool:
    """Whether ``user`` might approve or publish some notice (by group, or as a
    Communications Lead somewhere): the API's first gate before the notice's own check."""
    return any(may(user, name) for name in (APPROVE_NOTICE, PUBLISH_NOTICE, LEAD_NOTICE_COMMS))


__all__ = ["NotAllowed", "check", "is_comms_lead", "may", "may_review", "refusal", "steps"]


# --- Templates (helper "templates") ----------------------------------------------------------
# Writing templates is the model permissions (add/change/delete template: incident managers);
# previewing renders one against a real incident, so it needs to read incidents too. Verbs on
# no incident: ``on_closed`` means nothing for them (set so the closed-incident rules leave
# them out).
PREVIEW_TEMPLATE = "preview_template"

register(
    Verb(
        PREVIEW_TEMPLATE,
        ("comms.view_template", "comms.preview_template", "incidents.view_incident"),
        "Render a template against an incident to see the message (changes nothing).",
        on_closed=True,
    ),
)
# --- end of Templates ------------------------------------------------------------------------
