"""How a page reaches its person: their notification rules, one attempt per rule.

1. ``page_notify`` (the engine calls it once per new page to a person, inside its
   transaction) writes one ``PageAttempt`` per rule of the recipient, due at the page's time
   plus the rule's delay, and sends those due now. A person with no rules gets one attempt:
   e-mail at once to their account address; a person with no address gets a failed delivery
   that says so, never silence.
2. ``page_attempts_send_due`` (the beat, every 15 s) sends the later attempts as they fall
   due. Each is claimed under a row lock (``select_for_update(skip_locked=True)``), and the
   page is locked and asked ``Page.objects.live()`` (the one definition) before anything is
   sent: an attempt of an acknowledged or stopped page, or of a step whose ``unless`` point
   the incident has reached, is closed with the reason and sends nothing.

Every attempt sends at most one message: it is claimed under its lock, its ``due_at`` is
cleared in the same transaction as the delivery row is written, and the delivery's dedupe
key is the attempt's. Each message carries the incident's reference, title and severity, the
step, DRILL for drills, the incident's admin link and the signed acknowledge link.

People manage their own contact methods and rules with ``contact_method_create``,
``contact_method_update``, ``contact_method_delete`` and ``notification_rule_set``;
``may_edit_contacts`` says whose.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from incidents.models import TimelineEntry
from incidents.services import timeline_add
from ircore.errors import RuleError
from ircore.links import absolute_url
from ircore.models import Delivery
from ircore.notifications import notify_contact
from ircore.policy import format_duration
from ircore.validators import duration_problem

from ..acklinks import ack_url
from ..models import ContactMethod, NotificationRule, Page, PageAttempt
from ..models.contact import RULE_DELAY_MAX
from ..permissions import MANAGE_CONTACTS, may
from ._base import attributed, text

SEND_BATCH = 500  # attempts per reconciler run; the rest are next tick's, still due
KIND_WORDS = {"email": "e-mail", "chat": "chat", "webhook": "webhook"}  # for the timeline


# --- Paging along the rules -------------------------------------------------------------------


def page_notify(*, page: Page, now: datetime | None = None) -> list[PageAttempt]:
    """Plan ``page``'s attempts from its recipient's rules (once: a second call plans
    nothing more) and send those due by ``now``. Returns the page's attempts. A page to an
    endpoint has no personal rules and is left to the engine."""
    now = now or timezone.now()
    if page.recipient_id is None:
        return []
    with transaction.atomic():
        locked = _locked_page(page.pk)
        attempts = list(locked.attempts.select_related("rule").order_by("delay", "id"))
        if not attempts:
            attempts = _plan(locked, start=locked.paged_at or now, now=now)
        for attempt in attempts:
            if attempt.due_at is not None and attempt.due_at <= now:
                _send(attempt, locked, now)
    page.delivery_id, page.status = locked.delivery_id, locked.status
    return attempts


def page_attempts_send_due(*, now: datetime | None = None, limit: int = SEND_BATCH) -> int:
    """Send the attempts due by ``now``; returns how many were sent. Safe under two beats:
    an attempt another worker holds is skipped, one it finished is no longer due."""
    now = now or timezone.now()
    ids = list(
        PageAttempt.objects.due(now).order_by("due_at", "id").values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for attempt_id in ids:
        with transaction.atomic():
            attempt = (
                PageAttempt.objects.select_for_update(skip_locked=True)
                .due(now)
                .filter(pk=attempt_id)
                .first()
            )
            if attempt is None:  # taken by another worker, or done since the list was read
                continue
            sent += _send(attempt, _locked_page(attempt.page_id), now)
    return sent


def _locked_page(page_id: int) -> Page:
    return (
        Page.objects.select_for_update(of=("self",))
        .select_related("incident", "incident__severity", "recipient")
        .get(pk=page_id)
    )


def _plan(page: Page, *, start: datetime, now: datetime) -> list[PageAttempt]:
    rules = list(
        NotificationRule.objects.filter(user_id=page.recipient_id)
        .select_related("contact_method")
        .order_by("delay", "id")
    )
    if rules:
        attempts = [
            PageAttempt(
                page=page,
                rule=rule,
                kind=rule.contact_method.kind,
                target=rule.contact_method.target,
                delay=rule.delay,
                due_at=start + rule.delay,
                created_at=now,
            )
            for rule in rules
        ]
    else:  # no rules: e-mail at once to the account's address
        email = (page.recipient.email or "").strip()
        attempts = [
            PageAttempt(page=page, kind="email", target=email, due_at=start, created_at=now)
        ]
    PageAttempt.objects.bulk_create(attempts)
    if not attempts[0].pk:  # backends that do not return keys from bulk inserts
        attempts = list(page.attempts.select_related("rule").order_by("delay", "id"))
    return attempts


def _send(attempt: PageAttempt, page: Page, now: datetime) -> int:
    """Send one attempt of a locked page, or close it with the reason the page no longer
    notifies. Returns 1 if a message was written, else 0."""
    reason = _not_live_reason(page)
    if reason:
        attempt.due_at, attempt.stopped_at, attempt.stop_reason = None, now, reason[:200]
        attempt.save(update_fields=["due_at", "stopped_at", "stop_reason"])
        return 0
    subject, body, payload = page_message(page=page, attempt=attempt, now=now)
    unreachable = ""
    if not attempt.target and attempt.rule_id is None:
        unreachable = (
            f"{page.recipient.get_username()} has no email address and no notification "
            "rules, so this page could not be sent."
        )
    delivery = notify_contact(
        recipient=page.recipient,
        channel=attempt.kind,
        target=attempt.target,
        subject=subject,
        body=body,
        topic=f"incidents.incident:{page.incident_id}",
        dedupe_key=f"oncall.page:{page.pk}:attempt:{attempt.pk}",
        payload=payload,
        unreachable=unreachable,
    )
    attempt.delivery, attempt.sent_at, attempt.due_at = delivery, now, None
    attempt.save(update_fields=["delivery", "sent_at", "due_at"])
    _record_on_page(page, delivery)
    _timeline(page, attempt, delivery, now)
    return 1


def _not_live_reason(page: Page) -> str:
    if Page.objects.live().filter(pk=page.pk).exists():
        return ""
    if page.status == Page.Status.ACKNOWLEDGED:
        return "Not sent: the page was acknowledged."
    if page.status == Page.Status.STOPPED:
        return f"Not sent: the page was stopped ({page.stop_reason or 'no reason given'})."
    return f"Not sent: the incident is {page.get_unless_display().lower()} already."


def _record_on_page(page: Page, delivery: Delivery) -> None:
    """The page's first delivery is its delivery; a failed first one is replaced by the
    first one that can go."""
    failed = delivery.status == Delivery.Status.FAILED
    if page.delivery_id is None or (page.status == Page.Status.FAILED and not failed):
        page.delivery = delivery
        if page.status in (Page.Status.PENDING, Page.Status.FAILED):
            page.status = Page.Status.FAILED if failed else Page.Status.SENT
        page.save(update_fields=["delivery", "status"])


def _timeline(page: Page, attempt: PageAttempt, delivery: Delivery, now: datetime) -> None:
    """A later attempt (the engine records the page itself) or a message that cannot go."""
    failed = delivery.status == Delivery.Status.FAILED
    if not attempt.delay and not failed:
        return
    name = page.recipient.get_full_name() or page.recipient.get_username()
    how = KIND_WORDS.get(attempt.kind, attempt.kind)
    if failed:
        what = f"Could not page {name} by {how}: {delivery.last_error}"
    else:
        minutes = int(attempt.delay.total_seconds() // 60)
        what = f"Paged {name} again by {how}, {minutes} min after the page, as their rules say."
    timeline_add(
        incident=page.incident,
        kind=TimelineEntry.Kind.PAGE,
        text=what[:1000],
        data={"page": page.pk, "attempt": attempt.pk, "delivery": delivery.pk},
        occurred_at=now,
    )


def page_message(*, page: Page, attempt: PageAttempt, now: datetime) -> tuple[str, str, dict]:
    """The subject, body and payload of one attempt's message."""
    incident = page.incident
    severity = incident.severity
    drill = "DRILL: " if page.is_drill else ""
    step = f"step {page.step}" + (f", round {page.repeat + 1}" if page.repeat else "")
    if page.target_label:
        step += f" ({page.target_label})"
    incident_url = absolute_url(incident.get_absolute_url())
    acknowledge_url = ack_url(page=page, now=now)
    subject = f"{drill}Page: {incident.reference} [{severity.key}] {incident.title}"
    lines = []
    if page.is_drill:
        lines.append("DRILL: this is an exercise; respond as you would, nothing is broken.")
    lines += [
        f"You are paged about {incident.reference}: {incident.title}",
        f"Severity: {severity.key} ({severity.name})",
        f"Escalation: {step}",
        "",
        f"Acknowledge: {acknowledge_url}",
        f"Incident: {incident_url}",
    ]
    payload = {
        "page": page.pk,
        "incident": incident.reference,
        "severity": severity.key,
        "step": page.step,
        "repeat": page.repeat,
        "drill": page.is_drill,
        "incident_url": incident_url,
        "acknowledge_url": acknowledge_url,
    }
    return subject, "\n".join(lines), payload


# --- People's own contact methods and rules -------------------------------------------------


def may_manage_contacts(user: Any) -> bool:
    """Whether ``user`` may see and edit everyone's contact methods and rules."""
    return bool(user and user.is_authenticated and user.is_active and may(user, MANAGE_CONTACTS))


def delay_words(delay: timedelta) -> str:
    return "at once" if not delay else f"after {format_duration(delay)}"


def may_edit_contacts(by: Any, person: Any) -> bool:
    """Everyone edits their own contact methods and rules; anyone's needs the manage right."""
    if not (by and by.is_authenticated and by.is_active):
        return False
    return by.pk == getattr(person, "pk", None) or may_manage_contacts(by)


def _check_may(by: Any, person: Any) -> None:
    if not may_edit_contacts(by, person):
        raise RuleError("You may change your own contact methods and rules only.", field="user")


def _clean_method(*, person, kind: Any, target: Any, label: Any, exclude_pk=None):
    if kind not in ContactMethod.Kind.values:
        choices = ", ".join(ContactMethod.Kind.values)
        raise RuleError(f"Choose one of: {choices}.", field="kind")
    problem = ContactMethod.target_problem(kind, target)
    if problem:
        raise RuleError(problem, field="target")
    target, label = target.strip(), text("label", label, limit=100)
    twins = ContactMethod.objects.filter(user=person, kind=kind, target=target)
    if twins.exclude(pk=exclude_pk).exists():
        raise RuleError("You have this contact method already.", field="target")
    return kind, target, label


def contact_method_create(
    *, user: Any, kind: str, target: str, label: str = "", by: Any
) -> ContactMethod:
    """A new way to reach ``user`` (nothing pages it until a rule names it)."""
    _check_may(by, user)
    with transaction.atomic():
        kind, target, label = _clean_method(person=user, kind=kind, target=target, label=label)
        method = ContactMethod(user=user, kind=kind, target=target, label=label)
        attributed(method, by).save()
    return method


def contact_method_update(
    *,
    method: ContactMethod,
    by: Any,
    kind: str | None = None,
    target: str | None = None,
    label: str | None = None,
) -> ContactMethod:
    """Change a contact method; pages already planned keep the target they snapshot."""
    _check_may(by, method.user)
    with transaction.atomic():
        locked = ContactMethod.objects.select_for_update().get(pk=method.pk)
        kind, target, label = _clean_method(
            person=locked.user,
            kind=locked.kind if kind is None else kind,
            target=locked.target if target is None else target,
            label=locked.label if label is None else label,
            exclude_pk=locked.pk,
        )
        locked.kind, locked.target, locked.label = kind, target, label
        attributed(locked, by).save()
    return locked


def contact_method_delete(*, method: ContactMethod, by: Any) -> None:
    """Remove a contact method and the rules that use it (each deletion in the history)."""
    _check_may(by, method.user)
    with transaction.atomic():
        for rule in NotificationRule.objects.select_for_update().filter(contact_method=method):
            attributed(rule, by).delete()
        attributed(ContactMethod.objects.select_for_update().get(pk=method.pk), by).delete()


def notification_rule_set(
    *, user: Any, rules: Iterable[tuple[ContactMethod, timedelta]], by: Any
) -> list[NotificationRule]:
    """Make ``user``'s rules exactly ``rules`` (contact method, delay after the page):
    unchanged rules are kept, others removed or added. Pages already planned are unchanged.
    An empty list means the default: e-mail at once to the account's address."""
    _check_may(by, user)
    wanted: list[tuple[int, timedelta]] = []
    for method, delay in rules:
        if not isinstance(method, ContactMethod) or method.user_id != user.pk:
            raise RuleError("Choose one of this person's own contact methods.", field="rules")
        problem = duration_problem(delay, maximum=RULE_DELAY_MAX)
        if problem:
            raise RuleError(f"Delay: {problem}", field="rules")
        if (method.pk, delay) in wanted:
            raise RuleError(f"{method} is listed twice with the same delay.", field="rules")
        wanted.append((method.pk, delay))
    with transaction.atomic():
        current = list(NotificationRule.objects.select_for_update().filter(user=user))
        kept = []
        for rule in current:
            if (rule.contact_method_id, rule.delay) in wanted:
                kept.append(rule)
            else:
                attributed(rule, by).delete()
        have = {(rule.contact_method_id, rule.delay) for rule in kept}
        for method_id, delay in wanted:
            if (method_id, delay) not in have:
                rule = NotificationRule(user=user, contact_method_id=method_id, delay=delay)
                attributed(rule, by).save()
                kept.append(rule)
    return sorted(kept, key=lambda rule: (rule.delay, rule.pk))
