"""Notices and their review: a message for one audience about one incident, drafted, reviewed
and published (``comms.services.notices``); the comments of a notice sent back; and the
internal routes that say where an incident's internal updates go."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from comms.models.audience import Audience


class NoticeQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Notice.Status.PUBLISHED)

    def public(self):
        """What the status page may show: published notices for customers, never a drill's
        (a drill rehearses the review; it tells no customer anything)."""
        return self.published().filter(audience=Audience.CUSTOMERS, incident__is_drill=False)

    def awaiting_review(self):
        return self.filter(status=Notice.Status.IN_REVIEW)

    def awaiting_legal_review(self):
        """In review or approved, about an incident whose type needs legal review, and not
        cleared by a legal reviewer yet: what the Legal reviewers' list shows."""
        return self.filter(
            status__in=(Notice.Status.IN_REVIEW, Notice.Status.APPROVED),
            incident__incident_type__legal_review_required=True,
            legal_approved_at__isnull=True,
        )


class Notice(models.Model):
    """A message for one audience about one incident, reviewed before it goes out.

    draft -> in review -> approved -> published; in review or approved -> draft when a
    reviewer sends it back with a comment. ``approved`` means ready to publish: every review
    it needs is in (an incident manager's or the Communications Lead's approval, and a legal
    reviewer's where the incident's type asks for one)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        PUBLISHED = "published", "Published"

    # A notice is a few paragraphs; the services refuse more (a template renders within it).
    BODY_LIMIT = 20_000

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="notices"
    )
    audience = models.CharField(max_length=12, choices=Audience.choices)
    template = models.ForeignKey(
        "comms.Template", null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    subject = models.CharField(max_length=300)
    body = models.TextField(help_text="Markdown; shown sanitised.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    # The public components a customer notice is about: its subscribers are theirs.
    components = models.ManyToManyField("ircore.Service", blank=True, related_name="notices")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Everyone who wrote or changed its text: none of them may approve it.
    writers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    legal_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    legal_approved_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[components])

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "-created_at", "-id"]
        permissions = [
            ("approve_notice", "Can approve notices"),
            ("legal_approve_notice", "Can give notices their legal approval"),
            ("publish_notice", "Can publish approved notices"),
            (
                "lead_notice_comms",
                "Can approve and publish the notices of an incident one is Communications Lead of",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "audience", "published_at"], name="notice_public_idx"),
            # The admin change list and the API list: newest first, a page at a time.
            models.Index(fields=["-created_at", "-id"], name="notice_recent_idx"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def legal_review_required(self) -> bool:
        """The incident's type asks for a legal reviewer (data loss, security, privacy). Read
        from the type as it is now: a type set after approval still stops the publish."""
        kind = self.incident.incident_type
        return kind is not None and kind.legal_review_required

    @property
    def legal_review_pending(self) -> bool:
        return self.legal_review_required and self.legal_approved_at is None

    @property
    def is_editable(self) -> bool:
        """Only drafts change; a notice in review is sent back to be changed."""
        return self.status == self.Status.DRAFT

    def allows(self, step: str) -> bool:
        """Whether the notice's state lets ``step`` happen now (who may is
        ``comms.permissions``'s half; the services refuse the rest, saying why)."""
        status, S = self.status, self.Status
        if step in ("submit", "discard", "edit"):
            return status == S.DRAFT
        if step == "approve":
            return status == S.IN_REVIEW and self.approved_at is None
        if step == "legal_approve":
            return status in (S.IN_REVIEW, S.APPROVED) and self.legal_review_pending
        if step == "send_back":
            return status in (S.IN_REVIEW, S.APPROVED)
        if step == "publish":
            return status == S.APPROVED and not self.legal_review_pending
        raise ValueError(f"No notice step '{step}'.")


class NoticeComment(models.Model):
    """A reviewer's comment when they sent a notice back to draft: kept with the notice, so
    its writer reads what to change and the review's story stays whole."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    # What the notice was when it was sent back (in review or approved).
    from_status = models.CharField(max_length=12, choices=Notice.Status.choices)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["notice", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:60]}"


class InternalRoute(models.Model):
    """Where internal updates go: a chat webhook, an e-mail list or a webhook
    (``ircore.NotificationEndpoint``), for every incident, or for the incidents affecting a
    team's services, one service, or one incident (its bridge channel, say).

    A published internal update reaches every active endpoint whose route matches the
    incident, each once, and the e-mail address of each team owning an affected service."""

    endpoint = models.ForeignKey(
        "ircore.NotificationEndpoint", on_delete=models.CASCADE, related_name="internal_routes"
    )
    team = models.ForeignKey(
        "ircore.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    service = models.ForeignKey(
        "ircore.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="internal_routes",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["endpoint__name", "id"]
        constraints = [
            # At most one scope; none means every incident.
            models.CheckConstraint(
                condition=Q(team__isnull=True, service__isnull=True)
                | Q(team__isnull=True, incident__isnull=True)
                | Q(service__isnull=True, incident__isnull=True),
                name="internal_route_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint.name}: {self.scope}"

    @property
    def scope(self) -> str:
        if self.incident_id:
            return f"incident {self.incident.reference}"
        if self.service_id:
            return f"incidents affecting {self.service.name}"
        if self.team_id:
            return f"incidents affecting {self.team.name}'s services"
        return "every incident"
