"""Who a published notice reaches, and sending it to them through ``ircore.notifications``;
and the review's own messages (a notice to review, a notice sent back).

- Internal updates: every active endpoint (chat webhook, e-mail list, webhook) of an
  ``InternalRoute`` that matches the incident (every incident; the team owning an affected
  service; an affected service; this incident), and the e-mail address of each team owning
  an affected service. Each target once, however many routes name it.
- Executive briefings: the members of the Leadership group and the incident's current
  Executive Sponsor, each once, on every channel they can be reached on.
- Customer notices: the status page shows them by themselves (``Notice.objects.public()``);
  their subscribers are ``comms.services.subscribers.fan_out``'s. Nothing is sent here.

A drill's notices reach nobody (as its financial thresholds notify nobody): it rehearses the
review, not the announcement.

Every message has a dedupe key naming the notice and the target, so a publish retried or run
twice at once writes each message once.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from incidents.models import Incident, RoleAssignment
from ircore.links import absolute_url
from ircore.models import NotificationEndpoint, Team
from ircore.notifications import notify_email, notify_endpoint, notify_user
from ircore.roles import LEADERSHIP, LEGAL_REVIEWERS

from .. import permissions as verbs
from ..models import Audience, InternalRoute, Notice

# How many targets a timeline entry names before "and N more".
NAMED_TARGETS = 6


@dataclass(frozen=True)
class Recipient:
    """One target of a notice: an endpoint, a team's e-mail address or a person."""

    label: str
    endpoint: NotificationEndpoint | None = None
    address: str = ""
    user: Any = None

    @property
    def key(self) -> str:
        """What makes this target itself, in the message's dedupe key."""
        if self.endpoint is not None:
            return f"endpoint:{self.endpoint.pk}"
        if self.user is not None:
            return f"user:{self.user.pk}"
        return f"email:{self.address.lower()}"


def _affected(incident: Incident) -> tuple[list[int], list[int]]:
    """Ids of the incident's affected services and of the teams owning them."""
    rows = incident.affected.values_list("service_id", "service__team_id")
    services = sorted({service for service, _ in rows})
    teams = sorted({team for _, team in rows if team is not None})
    return services, teams


def internal_recipients(incident: Incident) -> list[Recipient]:
    services, teams = _affected(incident)
    routes = (
        InternalRoute.objects.filter(
            Q(team__isnull=True, service__isnull=True, incident__isnull=True)
            | Q(incident=incident)
            | Q(service__in=services)
            | Q(team__in=teams)
        )
        .filter(endpoint__active=True)
        .select_related("endpoint")
        .order_by("endpoint__name", "endpoint_id")
    )
    found: dict[tuple[str, str], Recipient] = {}
    for route in routes:
        endpoint = route.endpoint
        target = (endpoint.kind, endpoint.target.strip().lower())
        found.setdefault(target, Recipient(label=endpoint.name, endpoint=endpoint))
    for team in Team.objects.filter(pk__in=teams).exclude(email="").order_by("name"):
        target = (NotificationEndpoint.Kind.EMAIL, team.email.strip().lower())
        found.setdefault(target, Recipient(label=f"{team.name} ({team.email})", address=team.email))
    return list(found.values())


def executive_recipients(incident: Incident) -> list[Recipient]:
    User = get_user_model()
    sponsor = Q(
        incident_roles__incident=incident,
        incident_roles__role=RoleAssignment.Role.EXECUTIVE_SPONSOR,
        incident_roles__relieved_at__isnull=True,
    )
    people = (
        User.objects.filter(Q(groups__name=LEADERSHIP) | sponsor, is_active=True)
        .select_related("profile")
        .distinct()
        .order_by("username")
    )
    return [Recipient(label=_person(person), user=person) for person in people]


def _person(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def recipients(notice: Notice) -> list[Recipient]:
    """Whom publishing ``notice`` would message (customers: nobody here, see the module)."""
    if notice.incident.is_drill:
        return []
    if notice.audience == Audience.INTERNAL:
        return internal_recipients(notice.incident)
    if notice.audience == Audience.EXECUTIVES:
        return executive_recipients(notice.incident)
    return []


def _message_body(notice: Notice) -> str:
    incident = notice.incident
    footer = f"{incident.reference}: {incident.title}"
    if notice.audience == Audience.INTERNAL and incident.channel_name:
        footer += f" · discussion in {incident.channel_name}"
    return f"{notice.body.rstrip()}\n\n— {footer}"


def send(notice: Notice) -> list[Recipient]:
    """Write the messages of a published notice (sent after commit); returns whom."""
    targets = recipients(notice)
    if not targets:
        return []
    incident = notice.incident
    common = {
        "subject": notice.subject,
        "body": _message_body(notice),
        "topic": f"incidents.incident:{incident.pk}",
        "payload": {
            "notice": notice.pk,
            "incident": incident.reference,
            "audience": notice.audience,
        },
        "link": absolute_url(incident.get_absolute_url()),
    }
    for target in targets:
        key = f"comms.notice:{notice.pk}:{target.key}"
        if target.endpoint is not None:
            notify_endpoint(endpoint=target.endpoint, dedupe_key=key, **common)
        elif target.user is not None:
            notify_user(user=target.user, dedupe_key=key, **common)
        else:
            notify_email(address=target.address, dedupe_key=key, **common)
    return targets


def named(targets: list[Recipient]) -> str:
    """'A, B and C' (at most ``NAMED_TARGETS`` names, then how many more)."""
    labels = [target.label for target in targets]
    if len(labels) > NAMED_TARGETS:
        shown = labels[:NAMED_TARGETS]
        return f"{', '.join(shown)} and {len(labels) - NAMED_TARGETS} more"
    if len(labels) > 1:
        return f"{', '.join(labels[:-1])} and {labels[-1]}"
    return labels[0] if labels else ""


# --- the review's own messages ---------------------------------------------------------------


def reviewers(notice: Notice, submitter: Any) -> list[Any]:
    """Who hears that a notice awaits review: the incident's Communications Lead when they may
    approve it (a support agent in the role may not), else its IC; and, when the type asks
    for it, the legal reviewers. Never the submitter."""
    current = RoleAssignment.objects.filter(
        incident=notice.incident,
        relieved_at__isnull=True,
        role__in=(RoleAssignment.Role.COMMS_LEAD, RoleAssignment.Role.INCIDENT_COMMANDER),
    ).select_related("user", "user__profile")
    by_role = {row.role: row.user for row in current if row.user.is_active}
    lead = by_role.get(RoleAssignment.Role.COMMS_LEAD)
    if lead is not None and not verbs.may_review(
        lead, verbs.APPROVE_NOTICE, notice.incident, comms_lead=True
    ):
        lead = None
    lead = lead or by_role.get(RoleAssignment.Role.INCIDENT_COMMANDER)
    people = [lead] if lead is not None else []
    if notice.legal_review_required:
        lawyers = get_user_model().objects.filter(groups__name=LEGAL_REVIEWERS, is_active=True)
        people += list(lawyers.select_related("profile").order_by("username"))
    unique = {person.pk: person for person in people if person.pk != submitter.pk}
    return list(unique.values())


def _notice_link(notice: Notice) -> str:
    return absolute_url(reverse("admin:comms_notice_change", args=[notice.pk]))


def ask_for_review(notice: Notice, *, submitter: Any, describe: str, now: datetime) -> None:
    for person in reviewers(notice, submitter):
        notify_user(
            user=person,
            subject=f"To review: {notice.subject}",
            body=(
                f"{_person(submitter)} submitted {describe} about "
                f"{notice.incident.reference} for review."
            ),
            topic=f"incidents.incident:{notice.incident_id}",
            # Once per submission: a notice sent back and submitted again asks again.
            dedupe_key=f"comms.notice:{notice.pk}:review:{now.isoformat()}:user:{person.pk}",
            link=_notice_link(notice),
        )


def tell_sent_back(notice: Notice, *, submitter: Any, by: Any, text: str, now: datetime) -> None:
    """The person who submitted it reads why it came back (not when they sent it back)."""
    if submitter is None or submitter.pk == by.pk or not submitter.is_active:
        return
    notify_user(
        user=submitter,
        subject=f"Sent back: {notice.subject}",
        body=text,
        topic=f"incidents.incident:{notice.incident_id}",
        dedupe_key=f"comms.notice:{notice.pk}:sent-back:{now.isoformat()}",
        link=_notice_link(notice),
    )
