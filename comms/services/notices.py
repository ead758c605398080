"""The notice verbs: draft, update, submit, approve, legal approval, send back, publish, discard.

Each runs in one transaction on the notice's row lock: it checks who may
(``comms.permissions``, raising ``NotAllowed``, a 403) and what the notice's state allows
(``ConflictError``, a 409), stamps the step, writes the history (who, and the step as the
change reason) and the incident's timeline. The admin and the API call these; neither repeats
a rule. The review:

1. ``draft``: by hand, or from a template (``comms.rendering.render``: a subject or body left
   empty is rendered from it). A customer notice's components default to the incident's
   public affected services.
2. ``update``: drafts only; whoever changes the text joins its writers.
3. ``submit``: draft -> in review; the incident's Communications Lead (or its IC) and, where
   the type asks for it, the legal reviewers are told there is a notice to review.
4. ``approve`` (an incident manager, or this incident's Communications Lead) and
   ``legal_approve`` (a legal reviewer, when the type asks for it), in either order, never
   by a writer, never both by one person; with every review in, the notice is approved.
5. ``send_back`` with a comment: in review or approved -> draft; the reviews start again.
6. ``publish``: approved -> published; sends to its audience (``notice_sends``), then settles
   the cadence (``cadence.update_sent``) and, for customers, tells the subscribers
   (``subscribers.fan_out``), all in the same transaction.
"""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Incident, TimelineEntry
from ircore.errors import ConflictError, RuleError
from ircore.models import Service
from ircore.validators import plain_text_problem

from .. import permissions as verbs
from ..models import Audience, Notice, NoticeComment, Template
from ..rendering import render
from . import cadence, notice_sends, subscribers

Status = Notice.Status
COMMENT_LIMIT = TimelineEntry.NOTE_LIMIT
SUBJECT_LIMIT = Notice._meta.get_field("subject").max_length
NOUNS = {
    Audience.INTERNAL: "internal update",
    Audience.CUSTOMERS: "customer notice",
    Audience.EXECUTIVES: "executive briefing",
}
# Customer notices are the timeline's "notice" kind; what goes inside the company, "update".
TIMELINE_KINDS = {
    Audience.INTERNAL: TimelineEntry.Kind.UPDATE,
    Audience.CUSTOMERS: TimelineEntry.Kind.NOTICE,
    Audience.EXECUTIVES: TimelineEntry.Kind.UPDATE,
}


# --- shared -----------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def name_of(user: Any) -> str:
    if user is None:
        return "system"
    return user.get_full_name() or user.get_username()


def describe(notice: Notice) -> str:
    """'the customer notice “Payments delayed”', as the timeline and messages say it."""
    return f"the {NOUNS[notice.audience]} “{notice.subject}”"


def _locked(notice: Notice) -> Notice:
    """The notice under a row lock, so two reviewers' clicks serialise. ``of=("self",)``:
    PostgreSQL refuses FOR UPDATE on the nullable side of the join to the incident type."""
    return (
        Notice.objects.select_for_update(of=("self",))
        .select_related("incident", "incident__incident_type", "template")
        .get(pk=notice.pk)
    )


def _refresh(caller: Notice, fresh: Notice) -> Notice:
    """Keep the caller's instance in step with what was saved."""
    if caller is not fresh and caller.pk:
        caller.refresh_from_db()
    return fresh


def _attribute(notice: Notice, user: Any, reason: str) -> None:
    """Tell simple-history who made the next change and which step it is."""
    if getattr(user, "pk", None):
        notice._history_user = user
    notice._change_reason = reason[:100]


def _save(notice: Notice, user: Any, reason: str) -> None:
    """Save with the history row saying who and which step."""
    _attribute(notice, user, reason)
    notice.save()


def _timeline(notice: Notice, user: Any, step: str, text: str, now: datetime, **data: Any) -> None:
    incident_services.timeline_add(
        incident=notice.incident,
        kind=TIMELINE_KINDS[notice.audience],
        text=text,
        author=user if getattr(user, "pk", None) else None,
        data={"notice": notice.pk, "audience": notice.audience, "step": step, **data},
        occurred_at=now,
    )


def _state_refusal(notice: Notice, doing: str, allowed: str) -> ConflictError:
    state = notice.get_status_display().lower()
    return ConflictError(f"Only {allowed} is {doing}; this one is {state}.", field="status")


def _text(field: str, value: Any, limit: int, *, required: str) -> str:
    if value is None:
        value = ""
    problem = plain_text_problem(value, max_length=limit)
    if problem:
        raise RuleError(problem, field=field)
    value = value.strip()
    if not value:
        raise RuleError(required, field=field)
    return value


def _subject(value: Any) -> str:
    # A subject is a line: an e-mail's header, a chat message's first line.
    if isinstance(value, str):
        value = " ".join(value.split())
    return _text("subject", value, SUBJECT_LIMIT, required="A notice needs a subject.")


def _body(value: Any) -> str:
    return _text("body", value, Notice.BODY_LIMIT, required="A notice needs a body.")


def _components(incident: Incident, audience: str, value: Any) -> list[Service]:
    """A customer notice's status-page components: public services only (an internal one's
    name must not reach the status page); by default the incident's public affected
    services. Other audiences have none."""
    if audience != Audience.CUSTOMERS:
        if value:
            raise RuleError("Only customer notices name status-page components.", "components")
        return []
    if value is None:
        return list(
            Service.objects.filter(
                pk__in=incident.affected.values("service_id"), public=True
            ).order_by("name")
        )
    components = list(dict.fromkeys(value))
    hidden = [service.name for service in components if not service.public]
    if hidden:
        names = ", ".join(hidden)
        raise RuleError(
            f"Not on the public status page: {names}. Name public components only.",
            field="components",
        )
    return components


def _render(template: Template, incident: Incident, now: datetime):
    """The template written for the incident; a template that does not render (a broken
    bound, a placeholder removed since it was saved) is refused on the template field."""
    try:
        return render(template.subject, template.body, incident, now=now)
    except RuleError as error:
        raise RuleError(
            f"The template “{template.name}” does not render: {error.message}", field="template"
        ) from None
    except ValidationError as error:
        raise RuleError(
            f"The template “{template.name}” does not render: {' '.join(error.messages)}",
            field="template",
        ) from None


# --- drafting ---------------------------------------------------------------------------------


def draft(
    *,
    incident: Incident,
    user: Any,
    audience: str | None = None,
    template: Template | None = None,
    subject: str = "",
    body: str = "",
    components: list[Service] | None = None,
    now: datetime | None = None,
) -> Notice:
    """A new draft about ``incident``, by hand (subject and body) or from ``template`` (its
    audience; a subject or body left empty is rendered from it against the incident)."""
    if not verbs.may(user, verbs.DRAFT_NOTICE):
        raise verbs.NotAllowed("You may not draft notices.")
    if incident is None:
        raise RuleError("Choose the incident the notice is about.", field="incident")
    if template is not None:
        if not template.active:
            raise RuleError(f"The template “{template.name}” is not in use.", field="template")
        if audience and audience != template.audience:
            raise RuleError(
                f"“{template.name}” is written for {Audience(template.audience).label.lower()}; "
                f"this notice is for {Audience(audience).label.lower()}.",
                field="template",
            )
        audience = template.audience
    if audience not in Audience.values:
        raise RuleError(f"Choose the audience: {', '.join(Audience.values)}.", field="audience")
    now = _now(now)
    if template is not None and (_blank(subject) or _blank(body)):
        rendered = _render(template, incident, now)
        subject = rendered.subject if _blank(subject) else subject
        body = rendered.body if _blank(body) else body
    subject, body = _subject(subject), _body(body)
    shown = _components(incident, audience, components)
    with transaction.atomic():
        notice = Notice(
            incident=incident,
            audience=audience,
            template=template,
            subject=subject,
            body=body,
            created_by=user,
        )
        _save(notice, user, "drafted")
        notice.writers.add(user)
        _attribute(notice, user, "components set")
        notice.components.set(shown)
        origin = f" from the template “{template.name}”" if template else ""
        text = f"{name_of(user)} drafted {describe(notice)}{origin}"
        _timeline(notice, user, "drafted", text, now)
    return notice


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def update(
    *,
    notice: Notice,
    user: Any,
    subject: str | None = None,
    body: str | None = None,
    components: list[Service] | None = None,
) -> Notice:
    """Change a draft's text or components (None leaves a part as it is); whoever changes it
    becomes one of its writers, who may not approve it."""
    with transaction.atomic():
        locked = _locked(notice)
        verbs.check(user, verbs.EDIT_NOTICE, locked)
        if not locked.is_editable:
            raise ConflictError(
                f"Only a draft changes; this one is {locked.get_status_display().lower()}. "
                "A reviewer sends it back to draft to change it.",
                field="status",
            )
        changed = []
        if subject is not None:
            subject = _subject(subject)
            if subject != locked.subject:
                locked.subject = subject
                changed.append("subject")
        if body is not None:
            body = _body(body)
            if body != locked.body:
                locked.body = body
                changed.append("body")
        if components is not None:
            wanted = _components(locked.incident, locked.audience, components)
            if {c.pk for c in wanted} != set(locked.components.values_list("pk", flat=True)):
                changed.append("components")
        if not changed:
            return _refresh(notice, locked)
        text = [part for part in changed if part != "components"]
        if text:
            _save(locked, user, f"edited {', '.join(text)}")
        if "components" in changed:
            # The m2m change is a history row of its own (simple-history), saying so.
            _attribute(locked, user, "edited components")
            locked.components.set(wanted)
        locked.writers.add(user)
    return _refresh(notice, locked)


def discard(*, notice: Notice, user: Any, now: datetime | None = None) -> None:
    """Delete a draft that will not go out; the timeline and the history keep that it was."""
    with transaction.atomic():
        locked = _locked(notice)
        verbs.check(user, verbs.DISCARD_NOTICE, locked)
        if not locked.is_editable:
            raise _state_refusal(locked, "discarded", "a draft")
        now = _now(now)
        _timeline(locked, user, "discarded", f"{name_of(user)} discarded {describe(locked)}", now)
        _attribute(locked, user, "discarded")
        locked.delete()


# --- review -----------------------------------------------------------------------------------


def submit(*, notice: Notice, user: Any, now: datetime | None = None) -> Notice:
    """Draft -> in review, and tell its reviewers."""
    with transaction.atomic():
        locked = _locked(notice)
        verbs.check(user, verbs.SUBMIT_NOTICE, locked)
        if locked.status != Status.DRAFT:
            raise _state_refusal(locked, "submitted", "a draft")
        now = _now(now)
        locked.status = Status.IN_REVIEW
        locked.submitted_by, locked.submitted_at = user, now
        _save(locked, user, "submitted for review")
        legal = " (it needs a legal reviewer too)" if locked.legal_review_required else ""
        text = f"{name_of(user)} submitted {describe(locked)} for review{legal}"
        _timeline(locked, user, "submitted", text, now)
        notice_sends.ask_for_review(locked, submitter=user, describe=describe(locked), now=now)
    return _refresh(notice, locked)


def _approved_if_complete(notice: Notice) -> bool:
    """With every review in, the notice is approved (ready to publish)."""
    if notice.approved_at is not None and not notice.legal_review_pending:
        notice.status = Status.APPROVED
        return True
    return False


def approve(*, notice: Notice, user: Any, now: datetime | None = None) -> Notice:
    """An incident manager's or the Communications Lead's approval of a notice in review."""
    with transaction.atomic():
        locked = _locked(notice)
        verbs.check(user, verbs.APPROVE_NOTICE, locked)
        if locked.status != Status.IN_REVIEW:
            raise _state_refusal(locked, "approved", "a notice in review")
        if locked.approved_at is not None:
            raise ConflictError(
                f"{name_of(locked.approved_by)} approved it already; it awaits a legal reviewer.",
                field="status",
            )
        now = _now(now)
        locked.approved_by, locked.approved_at = user, now
        complete = _approved_if_complete(locked)
        _save(locked, user, "approved")
        waits = "" if complete else "; it awaits a legal reviewer"
        text = f"{name_of(user)} approved {describe(locked)}{waits}"
        _timeline(locked, user, "approved", text, now)
    return _refresh(notice, locked)


def legal_approve(*, notice: Notice, user: Any, now: datetime | None = None) -> Notice:
    """A legal reviewer clears a notice whose incident type asks for it."""
    with transaction.atomic():
        locked = _locked(notice)
        verbs.check(user, verbs.LEGAL_APPROVE_NOTICE, locked)
        if locked.status not in (Status.IN_REVIEW, Status.APPROVED):
            raise _state_refusal(
                locked, "given its legal approval", "a notice in review or approved"
            )
        if not locked.legal_review_required:
            kind = locked.incident.incident_type
            why = f"{kind} incidents do not" if kind else "an incident without a type does not"
            raise ConflictError(f"This notice needs no legal review: {why} ask for one.", "status")
        if locked.legal_approved_at is not None:
            raise ConflictError(
                f"{name_of(locked.legal_approved_by)} gave it its legal approval already.",
                field="status",
            )
        now = _now(now)
        locked.legal_approved_by, locked.legal_approved_at = user, now
        complete = _approved_if_complete(locked)
        _save(locked, user, "legal approval")
        waits = "" if complete else "; it awaits an approval"
        text = f"{name_of(user)} gave {describe(locked)} its legal approval{waits}"
        _timeline(locked, user, "legal_approved", text, now)
    return _refresh(notice, locked)


def send_back(*, notice: Notice, user: Any, comment: str, now: datetime | None = None) -> Notice:
    """A reviewer returns a notice in review (or approved) to draft with a comment; its
    approvals are withdrawn, since the text will change and be reviewed again."""
    comment = _text("comment", comment, COMMENT_LIMIT, required="Say what should change.")
    with transaction.atomic():
        locked = _locked(notice)
        verbs.check(user, verbs.SEND_BACK_NOTICE, locked)
        if locked.status not in (Status.IN_REVIEW, Status.APPROVED):
            raise _state_refusal(locked, "sent back", "a notice in review or approved")
        now = _now(now)
        submitter = locked.submitted_by
        NoticeComment.objects.create(
            notice=locked, author=user, text=comment, from_status=locked.status, created_at=now
        )
        locked.status = Status.DRAFT
        locked.submitted_by = locked.submitted_at = None
        locked.approved_by = locked.approved_at = None
        locked.legal_approved_by = locked.legal_approved_at = None
        _save(locked, user, "sent back to draft")
        text = f"{name_of(user)} sent {describe(locked)} back to draft: {comment}"
        _timeline(locked, user, "sent_back", text, now)
        notice_sends.tell_sent_back(locked, submitter=submitter, by=user, text=text, now=now)
    return _refresh(notice, locked)


# --- publishing -------------------------------------------------------------------------------


def publish(notice: Notice, *, user: Any, now: datetime | None = None) -> Notice:
    """Approved -> published, and out it goes (the module's step 6). A second publish of the
    same notice is refused (409) and sends nothing: every message also carries a dedupe key
    naming the notice and its target."""
    with transaction.atomic():
        locked = _locked(notice)
        verbs.check(user, verbs.PUBLISH_NOTICE, locked)
        if locked.status == Status.PUBLISHED:
            when = timezone.localtime(locked.published_at).strftime("%Y-%m-%d %H:%M %Z")
            raise ConflictError(
                f"{name_of(locked.published_by)} published it already ({when}).", field="status"
            )
        if locked.status != Status.APPROVED:
            raise _state_refusal(locked, "published", "an approved notice")
        if locked.legal_review_pending:
            # The incident's type changed to one that asks for legal review after approval.
            raise ConflictError(
                f"{locked.incident.incident_type} incidents need a legal reviewer's approval "
                "before their notices go out.",
                field="status",
            )
        now = _now(now)
        if locked.audience == Audience.CUSTOMERS and not locked.components.exists():
            _attribute(locked, user, "components set to the affected public services")
            locked.components.set(_components(locked.incident, locked.audience, None))
        locked.status = Status.PUBLISHED
        locked.published_by, locked.published_at = user, now
        _save(locked, user, "published")
        sent_to = notice_sends.send(locked)
        reached = 0
        if locked.audience in (Audience.INTERNAL, Audience.CUSTOMERS):
            cadence.update_sent(locked, now=now)
        if locked.audience == Audience.CUSTOMERS:
            reached = subscribers.fan_out(locked)
        text = f"{name_of(user)} published {describe(locked)}{_where(locked, sent_to, reached)}"
        _timeline(
            locked,
            user,
            "published",
            text,
            now,
            sent_to=[target.label for target in sent_to],
            subscribers=reached,
        )
    return _refresh(notice, locked)


def _where(notice: Notice, sent_to: list, reached: int) -> str:
    if notice.incident.is_drill:
        return " (a drill: sent to nobody)"
    if notice.audience == Audience.CUSTOMERS:
        names = ", ".join(c.display_public_name for c in notice.components.order_by("name"))
        about = f" ({names})" if names else ""
        people = f" and {reached} subscriber{'s' if reached != 1 else ''}" if reached else ""
        return f" on the status page{about}{people}"
    if not sent_to:
        if notice.audience == Audience.INTERNAL:
            return "; it reached nobody: no internal route or team e-mail matches the incident"
        return "; it reached nobody: there is no one in Leadership and no Executive Sponsor"
    return f" to {notice_sends.named(sent_to)}"
